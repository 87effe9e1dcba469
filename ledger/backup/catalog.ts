import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ARCHIVE_EXT, parseArchive } from './archive.ts';
import { checkArchive } from './check.ts';
import { toPrune, type RetentionRule } from './retention.ts';

/** One archive found in a backup directory, checked. */
export interface Listed {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  /** From the manifest; the file's time when the header is unreadable. */
  readonly createdAt: string;
  readonly records: number;
  /** Why it does not verify, or null. */
  readonly problem: string | null;
}

/** Every archive in `dir`, oldest first, each verified (without opening its keys). */
export async function listArchives(dir: string | null): Promise<Listed[]> {
  if (dir === null) return [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(ARCHIVE_EXT)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Listed[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const buf = await readFile(file);
    const parsed = parseArchive(buf);
    const checked = await checkArchive(buf, { backupKey: null, trustedPublicKeyPem: null });
    out.push({
      name,
      file,
      bytes: buf.length,
      createdAt: typeof parsed === 'string' ? (await stat(file)).mtime.toISOString() : parsed.manifest.createdAt,
      records: checked.ok ? checked.records : 0,
      problem: checked.ok ? null : checked.problem,
    });
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/** Applies retention to one directory; returns the names deleted. */
export async function pruneArchives(dir: string | null, rule: RetentionRule): Promise<string[]> {
  const listed = await listArchives(dir);
  const doomed = toPrune(listed.map((l) => ({ name: l.name, createdAt: l.createdAt, verified: l.problem === null })), rule);
  for (const name of doomed) await rm(path.join(dir!, name), { force: true });
  return doomed;
}
