import { randomBytes } from 'node:crypto';
import { appendFile, readdir, rename, rm, rmdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Archive, Manifest } from './archive.ts';
import { chainParts } from './check.ts';
import { keyFingerprint, type ExchangeIdentity } from './identity.ts';
import { checkLineage, type Member } from './lineage.ts';
import { redisPrefixInUse, writeRedisChains, type RestoredChain } from './redis-restore.ts';
import { filesUnder, type BackupSource } from './sources.ts';

export class RestoreRefusedError extends Error {
  override readonly name = 'RestoreRefusedError';
}

export interface Restored {
  readonly manifest: Manifest;
  readonly records: number;
  readonly files: number;
  /** Archives restored from: 1 for a full archive, more for an increment and its bases. */
  readonly archives: number;
  /** What the operator should know (policies left as they were, keys not in the archive). */
  readonly notes: readonly string[];
  /** Set when another exchange's archive was restored on the operator's word. */
  readonly foreign: { readonly archiveKey: string; readonly exchangeKey: string; readonly reason: string } | null;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}

/**
 * Restores an archive into an empty DATA_DIR (and, with REDIS_URL, an empty Redis prefix: the
 * chains go to Redis streams, witnesses and keys to DATA_DIR as the Redis store keeps them): the archive is checked whole first (nothing is
 * written for a damaged archive or a wrong BACKUP_KEY), then segments, witnesses and keys are
 * written into a directory beside DATA_DIR that is renamed into place, so a failure halfway
 * leaves DATA_DIR as it was. Policies go to POLICY_DIR when it is empty or missing; otherwise it
 * is left alone and the differences are noted (every policy revision is in the ledger anyway).
 */
export interface RestoreOptions {
  readonly target: BackupSource;
  readonly backupKey: string | null;
  /** The exchange this restore is for (from BACKUP_DIR or OFFSITE_DIR); null when none is known. */
  readonly identity?: ExchangeIdentity | null;
  /** The operator's reason to restore another exchange's archive anyway; null refuses it. */
  readonly acceptForeign?: string | null;
}

export async function restoreBackup(members: readonly Member[], opts: RestoreOptions): Promise<Restored> {
  const { target } = opts;
  const lineage = await checkLineage(members, { backupKey: opts.backupKey, trustedPublicKeyPem: null });
  if ('problem' in lineage) throw new RestoreRefusedError(lineage.problem);
  const newest = lineage.checked[lineage.checked.length - 1]!;
  const { manifest } = newest.archive.header;
  const identity = opts.identity ?? null;
  let foreign: Restored['foreign'] = null;
  if (identity !== null && identity.publicKeyPem.trim() !== manifest.publicKeyPem.trim()) {
    const theirs = keyFingerprint(manifest.publicKeyPem);
    const ours = keyFingerprint(identity.publicKeyPem);
    if (opts.acceptForeign === undefined || opts.acceptForeign === null) {
      throw new RestoreRefusedError(`the archive is another exchange's: signed with log key ${theirs}, this exchange's is ${ours} (${identity.where}); to restore it anyway pass --accept-foreign "<reason>", which is recorded in the ledger`);
    }
    foreign = { archiveKey: theirs, exchangeKey: ours, reason: opts.acceptForeign };
  }
  if (lineage.checked.some((c) => !c.opened)) throw new RestoreRefusedError('BACKUP_KEY is not set: this archive is encrypted with it, and nothing in it can be restored without it');
  if (manifest.keys !== null && newest.keys === null) throw new RestoreRefusedError('BACKUP_KEY is not set: the keys in this archive are sealed with it, and the exchange cannot continue its chains without them');
  if (!(await isEmptyOrMissing(target.dataDir))) throw new RestoreRefusedError(`DATA_DIR ${target.dataDir} is not empty: restore only into an empty DATA_DIR (move the old one aside first)`);
  if (target.redisUrl !== null && (await redisPrefixInUse(target.redisUrl, target.redisPrefix))) {
    throw new RestoreRefusedError(`Redis already holds keys under the prefix "${target.redisPrefix}": restore only into an empty prefix (choose a new REDIS_PREFIX, or delete those keys first)`);
  }

  const notes: string[] = [...newest.notes];
  const staging = `${target.dataDir}.restoring-${randomBytes(4).toString('hex')}`;
  const policyStaging = `${target.policyDir}.restoring-${randomBytes(4).toString('hex')}`;
  const writePolicies = await isEmptyOrMissing(target.policyDir);
  const written = new Set<string>();
  try {
    // Oldest first: an increment's part of a segment or witness follows its parent's part.
    for (const c of lineage.checked) {
      for (const [i, f] of c.archive.header.manifest.files.entries()) {
        if ((f.kind === 'segment' && target.redisUrl === null) || f.kind === 'witness') {
          await put(path.join(staging, f.path), await c.archive.body(i), 0o644, true);
          written.add(f.path);
        }
      }
    }
    for (const [i, f] of manifest.files.entries()) {
      if (f.kind === 'policy' && writePolicies) {
        await put(path.join(policyStaging, f.path), await newest.archive.body(i), 0o644, false);
        written.add(`policy:${f.path}`);
      }
    }
    for (const [name, body] of newest.keys ?? []) {
      await put(path.join(staging, 'keys', name), body, 0o600, false);
      written.add(`keys/${name}`);
    }
    if (!writePolicies) notes.push(...(await policyDifferences(target.policyDir, newest.archive)));
    if (target.redisUrl !== null) {
      const chains = chainsOf(lineage.checked.map((c) => c.archive));
      await writeRedisChains(target.redisUrl, target.redisPrefix, chains);
      for (const c of chains) written.add(`redis:${c.log}/${c.chain}`);
    }
    await rmdir(target.dataDir).catch(() => undefined);
    await rename(staging, target.dataDir);
    if (writePolicies && manifest.files.some((f) => f.kind === 'policy')) {
      await rmdir(target.policyDir).catch(() => undefined);
      await rename(policyStaging, target.policyDir);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(policyStaging, { recursive: true, force: true });
  }
  return { manifest, records: lineage.records, files: written.size, archives: members.length, notes, foreign };
}

/**
 * Each chain across the lineage, with the head the newest archive holding it names; its records
 * are read when written, one segment body at a time.
 */
function chainsOf(lineage: readonly Archive[]): RestoredChain[] {
  const out = new Map<string, { log: string; chain: string; seq: number; hash: string; parts: { archive: Archive; from: number }[] }>();
  for (const archive of lineage) {
    for (const c of archive.header.manifest.chains) {
      const key = `${c.log}/${c.chain}`;
      const entry = out.get(key) ?? { log: c.log, chain: c.chain, seq: 0, hash: '', parts: [] };
      entry.parts.push({ archive, from: c.from ?? 0 });
      entry.seq = c.seq;
      entry.hash = c.hash;
      out.set(key, entry);
    }
  }
  return [...out.values()].map((e) => ({
    log: e.log,
    chain: e.chain,
    seq: e.seq,
    hash: e.hash,
    async *batches() {
      for (const part of e.parts) {
        const { reader } = await chainParts(part.archive, e.log, e.chain);
        for (let after = part.from; ; ) {
          const records = await reader.read(e.chain, after, 1000);
          if (records.length === 0) break;
          yield records.map((r) => ({ seq: r.seq, line: r.line }));
          after = records[records.length - 1]!.seq;
        }
      }
    },
  }));
}

async function put(file: string, body: Buffer, mode: number, append: boolean): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  if (append) await appendFile(file, body, { mode });
  else await writeFile(file, body, { mode });
}

async function policyDifferences(policyDir: string, archive: Archive): Promise<string[]> {
  const present = await filesUnder(policyDir);
  const out: string[] = [];
  for (const [i, f] of archive.header.manifest.files.entries()) {
    if (f.kind !== 'policy') continue;
    const now = present.get(f.path);
    if (now === undefined) out.push(`POLICY_DIR lacks ${f.path}, which the archive holds (left as it is)`);
    else if (!now.equals(await archive.body(i))) out.push(`POLICY_DIR ${f.path} differs from the archive's (left as it is)`);
  }
  return out;
}
