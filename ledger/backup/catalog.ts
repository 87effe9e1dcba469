import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ARCHIVE_EXT, archiveOfFile, fileName, fileSha256, readHeader } from './archive.ts';
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
  /** Why it does not verify (for an increment: or its base is missing or damaged), or null. */
  readonly problem: string | null;
  /** The archive id this one adds to (an increment), or null. */
  readonly parent: string | null;
  readonly id: string | null;
}

/** Every archive in `dir`, oldest first, each verified (without opening its keys), one file body in memory at a time. */
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
  const shaOf = new Map<string, string>();
  for (const name of names) {
    const file = path.join(dir, name);
    const archive = await archiveOfFile(file);
    const checked = typeof archive === 'string' ? null : await checkArchive(archive, { backupKey: null, trustedPublicKeyPem: null });
    const manifest = typeof archive === 'string' ? null : archive.header.manifest;
    if (manifest !== null) shaOf.set(manifest.id, await fileSha256(file));
    out.push({
      name,
      file,
      bytes: (await stat(file)).size,
      createdAt: manifest === null ? (await stat(file)).mtime.toISOString() : manifest.createdAt,
      records: checked?.ok === true ? checked.records : 0,
      problem: typeof archive === 'string' ? archive : checked!.ok ? null : checked!.problem,
      parent: manifest?.parent?.id ?? null,
      id: manifest?.id ?? null,
    });
  }
  // An increment is only as good as its bases: here, whole, and the very files it was made on.
  const byId = new Map(out.filter((l) => l.id !== null).map((l) => [l.id!, l]));
  const refs = new Map<string, string>();
  for (const l of out) {
    const parsed = l.parent === null ? null : await readHeader(l.file);
    if (parsed !== null && typeof parsed !== 'string' && parsed.manifest.parent !== null) refs.set(l.name, parsed.manifest.parent.sha256);
  }
  const baseProblem = (l: Listed, depth: number): string | null => {
    if (l.problem !== null) return l.problem;
    if (l.parent === null || depth > 10_000) return null;
    const p = byId.get(l.parent);
    if (p === undefined) return `its base ${fileName(l.parent)} is missing`;
    if (shaOf.get(l.parent) !== refs.get(l.name)) return `its base ${p.name} is not the archive it was made on`;
    return baseProblem(p, depth + 1) === null ? null : `its base ${p.name} does not verify`;
  };
  const final = out.map((l) => ({ ...l, problem: baseProblem(l, 0) }));
  return final.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/** Applies retention to one directory; returns the names deleted. */
export async function pruneArchives(dir: string | null, rule: RetentionRule): Promise<string[]> {
  const listed = await listArchives(dir);
  const names = new Map(listed.filter((l) => l.id !== null).map((l) => [l.id!, l.name]));
  const doomed = toPrune(listed.map((l) => ({ name: l.name, createdAt: l.createdAt, verified: l.problem === null, parent: l.parent === null ? null : (names.get(l.parent) ?? null) })), rule);
  for (const name of doomed) await rm(path.join(dir!, name), { force: true });
  return doomed;
}
