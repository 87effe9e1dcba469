import path from 'node:path';

/** The repository root, for tests that read committed files or spawn the CLIs. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
