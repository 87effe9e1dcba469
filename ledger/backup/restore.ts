import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, rmdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest, Parsed } from './archive.ts';
import { chainParts, checkArchive } from './check.ts';
import { redisPrefixInUse, writeRedisChains, type RestoredChain } from './redis-restore.ts';
import { filesUnder, type BackupSource } from './sources.ts';

export class RestoreRefusedError extends Error {
  override readonly name = 'RestoreRefusedError';
}

export interface Restored {
  readonly manifest: Manifest;
  readonly records: number;
  readonly files: number;
  /** What the operator should know (policies left as they were, keys not in the archive). */
  readonly notes: readonly string[];
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
export async function restoreBackup(archive: Buffer, opts: { target: BackupSource; backupKey: string | null }): Promise<Restored> {
  const { target } = opts;
  const checked = await checkArchive(archive, { backupKey: opts.backupKey, trustedPublicKeyPem: null });
  if (!checked.ok) throw new RestoreRefusedError(checked.problem);
  const { manifest, bodies } = checked.parsed;
  if (manifest.keys !== null && checked.keys === null) throw new RestoreRefusedError('BACKUP_KEY is not set: the keys in this archive are sealed with it, and the exchange cannot continue its chains without them');
  if (!(await isEmptyOrMissing(target.dataDir))) throw new RestoreRefusedError(`DATA_DIR ${target.dataDir} is not empty: restore only into an empty DATA_DIR (move the old one aside first)`);
  if (target.redisUrl !== null && (await redisPrefixInUse(target.redisUrl, target.redisPrefix))) {
    throw new RestoreRefusedError(`Redis already holds keys under the prefix "${target.redisPrefix}": restore only into an empty prefix (choose a new REDIS_PREFIX, or delete those keys first)`);
  }

  const notes: string[] = [...checked.notes];
  const staging = `${target.dataDir}.restoring-${randomBytes(4).toString('hex')}`;
  const policyStaging = `${target.policyDir}.restoring-${randomBytes(4).toString('hex')}`;
  const writePolicies = await isEmptyOrMissing(target.policyDir);
  let written = 0;
  try {
    for (const [i, f] of manifest.files.entries()) {
      if ((f.kind === 'segment' && target.redisUrl === null) || f.kind === 'witness') await put(path.join(staging, f.path), bodies[i]!, 0o644);
      else if (f.kind === 'policy' && writePolicies) await put(path.join(policyStaging, f.path), bodies[i]!, 0o644);
      else continue;
      written++;
    }
    for (const [name, body] of checked.keys ?? []) {
      await put(path.join(staging, 'keys', name), body, 0o600);
      written++;
    }
    if (!writePolicies) notes.push(...(await policyDifferences(target.policyDir, manifest, bodies)));
    if (target.redisUrl !== null) {
      await writeRedisChains(target.redisUrl, target.redisPrefix, await chainsOf(checked.parsed));
      written += manifest.chains.length;
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
  return { manifest, records: checked.records, files: written, notes };
}

async function chainsOf(parsed: Parsed): Promise<RestoredChain[]> {
  const out: RestoredChain[] = [];
  for (const c of parsed.manifest.chains) {
    const records = await chainParts(parsed, c.log, c.chain).reader.read(c.chain, 0, Number.MAX_SAFE_INTEGER);
    out.push({ log: c.log, chain: c.chain, lines: records.map((r) => r.line), seq: c.seq, hash: c.hash });
  }
  return out;
}

async function put(file: string, body: Buffer, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, body, { mode });
}

async function policyDifferences(policyDir: string, manifest: Manifest, bodies: readonly Buffer[]): Promise<string[]> {
  const present = await filesUnder(policyDir);
  const out: string[] = [];
  for (const [i, f] of manifest.files.entries()) {
    if (f.kind !== 'policy') continue;
    const now = present.get(f.path);
    if (now === undefined) out.push(`POLICY_DIR lacks ${f.path}, which the archive holds (left as it is)`);
    else if (!now.equals(bodies[i]!)) out.push(`POLICY_DIR ${f.path} differs from the archive's (left as it is)`);
  }
  return out;
}
