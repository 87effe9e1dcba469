import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { ARCHIVE_EXT } from '../backup/archive.ts';
import { chainParts } from '../backup/check.ts';
import { checkLineage, lineageOf, readMembers } from '../backup/lineage.ts';
import { ARCHIVED_LOGS, partitionOf, SHAPE_LOCK, type ArchiveTable } from './schema.ts';

/**
 * Retention of the archive: a month partition older than the configured years is detached and
 * dropped, but only when a backup that verifies holds every record in it. "Holds" is checked,
 * not assumed from dates: for each chain with records in the partition, the backup's copy of that
 * chain reaches the partition's last seq and has the same hash there. Because each hash covers the
 * one before, an equal hash at the last seq means every earlier record of the chain is in the
 * backup, byte for byte. Partitions of chains no backup holds (a seeded history, another site's)
 * are never dropped.
 */
export interface RetentionOptions {
  /** Partitions whose whole month ended more than this many years ago are candidates. */
  readonly years: number;
  /** Where backups are (BACKUP_DIR, OFFSITE_DIR); a missing directory holds none. */
  readonly backupDirs: readonly (string | null)[];
  /** This exchange's log key: a backup must be signed with it (null: whatever key the archive names). */
  readonly trustedPublicKeyPem: string | null;
  /** BACKUP_KEY: archives are encrypted with it; without it no backup can be read, so none counts as holding a record. */
  readonly backupKey: string | null;
  /** Only say what would be dropped. */
  readonly dryRun?: boolean;
  /**
   * Records a drop in the ledger (an `archive.partition.dropped` event). Called inside the drop's
   * transaction, before it commits: a drop whose record fails is rolled back, and a record whose
   * commit then fails names a partition still there (retention drops it again, recording again).
   */
  readonly record: (drop: PartitionDrop) => Promise<void>;
  readonly now?: () => Date;
}

export interface PartitionVerdict {
  readonly table: ArchiveTable;
  readonly partition: string;
  readonly month: string;
  readonly dropped: boolean;
  /** The backup that holds it, when one does. */
  readonly backup: string | null;
  /** Why it was kept, or what was checked before dropping it. */
  readonly reason: string;
}

/** What `record` is told of a drop. */
export interface PartitionDrop {
  readonly table: ArchiveTable;
  readonly partition: string;
  readonly month: string;
  readonly backup: string | null;
  readonly chains: readonly { readonly chain: string; readonly seq: number; readonly hash: string }[];
}

interface ChainEnd {
  readonly instance: string;
  readonly seq: number;
  readonly hash: string;
}

/** One verified backup (with the archives it adds to): the name and, per log and chain, the hash of any seq it holds. */
interface HeldBy {
  readonly name: string;
  hashAt(log: string, chain: string, seq: number): Promise<string | null>;
}

const LOG_OF: Readonly<Record<ArchiveTable, string>> = Object.fromEntries(Object.entries(ARCHIVED_LOGS).map(([log, spec]) => [spec.table, log])) as Record<ArchiveTable, string>;

/** The first instant after which a month partition is no longer within `years` of `now`. */
export function retentionCutoff(now: Date, years: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds()));
}

/** The month partitions whose whole month lies before the cutoff, oldest first. */
async function expiredPartitions(pool: Pool, cutoff: Date): Promise<{ table: ArchiveTable; partition: string; month: string }[]> {
  const r = await pool.query<{ parent: ArchiveTable; name: string }>(`
    SELECT p.relname AS parent, c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname IN ('access_records', 'ledger_events') ORDER BY c.relname`);
  const out: { table: ArchiveTable; partition: string; month: string }[] = [];
  for (const row of r.rows) {
    const m = /_(\d{4})_(\d{2})$/.exec(row.name);
    if (m === null) continue;
    const month = `${m[1]}-${m[2]}`;
    const p = partitionOf(row.parent, month);
    if (p.name === row.name && Date.parse(p.to) <= cutoff.getTime()) out.push({ table: row.parent, partition: row.name, month });
  }
  return out;
}

/** Per chain in the partition, its last record there (seq and hash). */
async function chainEnds(q: Pick<Pool, 'query'>, partition: string): Promise<ChainEnd[]> {
  const r = await q.query<{ instance: string; seq: string; hash: string }>(`SELECT DISTINCT ON (instance) instance, seq, hash FROM ${partition} ORDER BY instance, seq DESC`);
  return r.rows.map((x) => ({ instance: x.instance, seq: Number(x.seq), hash: x.hash }));
}

/** Every backup in the directories that verifies, newest first; each is read and checked once, when first needed. */
async function* verifiedBackups(dirs: readonly (string | null)[], trustedPublicKeyPem: string | null, backupKey: string | null): AsyncGenerator<HeldBy> {
  const files: string[] = [];
  for (const dir of dirs) {
    if (dir === null) continue;
    try {
      for (const n of await readdir(dir)) if (n.endsWith(ARCHIVE_EXT)) files.push(path.join(dir, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  // Archive names carry their time (exchange-<stamp>-…), so the name orders them; the newest holds the most.
  files.sort((a, b) => (path.basename(a) < path.basename(b) ? 1 : path.basename(a) > path.basename(b) ? -1 : 0));
  for (const file of files) {
    // An incremental archive holds its records only together with the archives it adds to.
    const lineage = await lineageOf(file, dirs);
    if ('problem' in lineage) continue;
    const checked = await checkLineage(await readMembers(lineage.files), { backupKey, trustedPublicKeyPem, openKeys: false });
    if ('problem' in checked || checked.checked.some((c) => !c.opened)) continue;
    const members = checked.checked.map((c) => c.archive);
    yield {
      name: path.basename(file),
      async hashAt(log, chain, seq) {
        for (const archive of members) {
          const entry = archive.header.manifest.chains.find((c) => c.log === log && c.chain === chain);
          if (entry === undefined || seq <= (entry.from ?? 0) || seq > entry.seq) continue;
          const [rec] = await (await chainParts(archive, log, chain)).reader.read(chain, seq - 1, 1);
          return rec?.seq === seq ? rec.hash : null;
        }
        return null;
      },
    };
  }
}

async function holds(backup: HeldBy, log: string, ends: readonly ChainEnd[]): Promise<boolean> {
  for (const e of ends) if ((await backup.hashAt(log, e.instance, e.seq)) !== e.hash) return false;
  return true;
}

/** Detaches and drops every expired partition a verified backup holds; keeps, and says why, every other. */
export async function applyRetention(pool: Pool, opts: RetentionOptions): Promise<PartitionVerdict[]> {
  if (!Number.isInteger(opts.years) || opts.years < 1) throw new Error(`retention must be a whole number of years, at least 1, got ${opts.years}`);
  const cutoff = retentionCutoff((opts.now ?? (() => new Date()))(), opts.years);
  const expired = await expiredPartitions(pool, cutoff);
  const verdicts: PartitionVerdict[] = [];
  const seen: HeldBy[] = [];
  const backups = verifiedBackups(opts.backupDirs, opts.trustedPublicKeyPem, opts.backupKey);
  for (const { table, partition, month } of expired) {
    const log = LOG_OF[table];
    const ends = await chainEnds(pool, partition);
    let holder: HeldBy | null = null;
    if (ends.length > 0) {
      for (const b of seen) {
        if (holder === null && (await holds(b, log, ends))) holder = b;
      }
      while (holder === null) {
        const next = await backups.next();
        if (next.done === true) break;
        seen.push(next.value);
        if (await holds(next.value, log, ends)) holder = next.value;
      }
      if (holder === null) {
        const chains = ends.map((e) => `${e.instance} to seq ${e.seq}`).join(', ');
        verdicts.push({ table, partition, month, dropped: false, backup: null, reason: `no verified backup holds its records (${log} ${chains}): run npm run backup -- create, then retention again` });
        continue;
      }
    }
    const reason = holder === null ? 'empty' : `held by backup ${holder.name} (${ends.length} chain(s), last records' hashes equal)`;
    if (opts.dryRun === true) {
      verdicts.push({ table, partition, month, dropped: false, backup: holder?.name ?? null, reason: `would be dropped: ${reason}` });
      continue;
    }
    await dropPartition(pool, table, partition, ends, () => opts.record({ table, partition, month, backup: holder?.name ?? null, chains: ends.map((e) => ({ chain: e.instance, seq: e.seq, hash: e.hash })) }));
    verdicts.push({ table, partition, month, dropped: true, backup: holder?.name ?? null, reason });
  }
  return verdicts;
}

/** Detach, drop and record in one transaction, after checking under the table's lock that nothing was added since the check. */
async function dropPartition(pool: Pool, table: ArchiveTable, partition: string, checked: readonly ChainEnd[], record: () => Promise<void>): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [SHAPE_LOCK]);
    await c.query(`LOCK TABLE ${partition} IN ACCESS EXCLUSIVE MODE`);
    const now = await chainEnds(c, partition);
    if (JSON.stringify(now) !== JSON.stringify(checked)) throw new Error(`${partition} received records while retention checked it; run retention again`);
    await c.query(`ALTER TABLE ${table} DETACH PARTITION ${partition}`);
    await c.query(`DROP TABLE ${partition}`);
    await record();
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
