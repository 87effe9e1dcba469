import { existsSync } from 'node:fs';
import path from 'node:path';
import { archiveOfFile, fileName, fileSha256, readHeader, type Archive, type Manifest } from './archive.ts';
import { checkArchive, type Checked, type CheckOptions } from './check.ts';

/** One archive of a lineage, opened (its bodies are read one at a time), or why it cannot be. */
export interface Member {
  readonly name: string;
  readonly archive: Archive | string;
}

/**
 * The archives a restore of `file` needs, oldest first: its base (a full archive), then each
 * increment up to `file`. Each parent is looked for beside the archive, then in `dirs`, and must be
 * the very file the increment was made on (its SHA-256). One line saying what is missing otherwise.
 */
export async function lineageOf(file: string, dirs: readonly (string | null)[]): Promise<{ files: string[] } | { problem: string }> {
  const files = [file];
  const seen = new Set<string>();
  for (let cur = file; ; ) {
    const h = await readHeader(cur).catch((e: NodeJS.ErrnoException) => `cannot be read (${e.code ?? e.message})`);
    if (typeof h === 'string') return files.length === 1 ? { files } : { problem: `its base ${path.basename(cur)}: ${h}` };
    const parent = h.manifest.parent;
    if (parent === null) return { files: files.reverse() };
    if (seen.has(parent.id)) return { problem: `its chain of bases loops at ${parent.id}` };
    seen.add(parent.id);
    const where = [path.dirname(cur), ...dirs.filter((d): d is string => d !== null)];
    const found = where.map((d) => path.join(d, fileName(parent.id))).find((f) => existsSync(f));
    if (found === undefined) return { problem: `its base ${fileName(parent.id)} is missing (an incremental archive restores only with every archive it adds to)` };
    if ((await fileSha256(found)) !== parent.sha256) return { problem: `its base ${fileName(parent.id)} is not the archive it was made on (SHA-256 differs: the base is damaged or replaced)` };
    files.push(found);
    cur = found;
  }
}

export async function readMembers(files: readonly string[]): Promise<Member[]> {
  return Promise.all(files.map(async (f) => ({ name: path.basename(f), archive: await archiveOfFile(f) })));
}

/**
 * Checks every archive of a lineage (oldest first) and that each increment starts where its parent
 * ends, chain by chain. The keys are opened from the newest archive only (a restore uses its keys).
 * A problem in a base is named with the base: "base <name>: <problem>".
 */
export async function checkLineage(members: readonly Member[], opts: CheckOptions): Promise<{ checked: Extract<Checked, { ok: true }>[]; records: number } | { problem: string; wrongKey: boolean }> {
  const checked: Extract<Checked, { ok: true }>[] = [];
  let previous: Manifest | null = null;
  let records = 0;
  for (const [i, m] of members.entries()) {
    const last = i === members.length - 1;
    const prefix = last ? '' : `base ${m.name}: `;
    if (typeof m.archive === 'string') return { problem: `${prefix}${m.archive}`, wrongKey: false };
    const c = await checkArchive(m.archive, { ...opts, openKeys: last });
    if (!c.ok) return { problem: `${prefix}${c.problem}`, wrongKey: c.wrongKey };
    const manifest = c.archive.header.manifest;
    if (previous !== null) {
      const ends = new Map(previous.chains.map((p) => [`${p.log}/${p.chain}`, p]));
      for (const ch of manifest.chains) {
        const from = ch.from ?? 0;
        const p = ends.get(`${ch.log}/${ch.chain}`);
        if (from === 0 && p === undefined) continue;
        if (p === undefined || p.seq !== from || (from > 0 && p.hash !== ch.fromHash)) {
          return { problem: `${prefix}${ch.log}/${encodeURIComponent(ch.chain)}: starts after seq ${from}, which is not where its base ${members[i - 1]!.name} ends (seq ${p?.seq ?? 0})`, wrongKey: false };
        }
      }
    } else if (manifest.parent !== null) {
      return { problem: `${prefix}its base ${fileName(manifest.parent.id)} is missing`, wrongKey: false };
    }
    records += c.records;
    checked.push(c);
    previous = manifest;
  }
  return { checked, records };
}
