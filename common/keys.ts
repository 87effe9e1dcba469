import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads a key file in DATA_DIR/keys, creating it with make() on first use. Several processes
 * (gateway, subgraphs) may race to create it: the file appears atomically through link(), so
 * every process ends up with the same key.
 */
export function readOrCreateKey(dataDir: string, name: string, make: () => string): { value: string; created: boolean } {
  return readOrCreateKeyIn(path.join(dataDir, 'keys'), name, make);
}

/** readOrCreateKey for a key kept in `dir` (a key that must not live in DATA_DIR). */
export function readOrCreateKeyIn(dir: string, name: string, make: () => string): { value: string; created: boolean } {
  const file = path.join(dir, name);
  try {
    return { value: readFileSync(file, 'utf8'), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, make(), { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return { value: readFileSync(file, 'utf8'), created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { value: readFileSync(file, 'utf8'), created: false };
  } finally {
    unlinkSync(tmp);
  }
}
