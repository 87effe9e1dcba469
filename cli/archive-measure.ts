import pg, { type Pool } from 'pg';
import { auditBody } from '../gateway/audit/record.ts';
import { chainLine, EMPTY_HEAD, type LogRecord } from '../ledger/log/chain.ts';
import { archivedHead, prepareBatch, shipBatch } from '../ledger/archive/insert.ts';
import { queryArchive } from '../ledger/archive/query.ts';
import { seededAccess, seededEntityKey } from '../ledger/archive/seed.ts';
import { dailyUsage } from '../ledger/archive/usage.ts';
import { openShipperPool } from '../ledger/archive/pool.ts';

/**
 * The archive's figures on a seeded history (npm run archive -- measure, npm run bench -- archive):
 * the access history of one entity key, one quarter's statistics for one agency, and the rate at
 * which the shipper's write path takes records in.
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** ANALYZE of the records on a connection of its own, without the pool's query timeout (minutes on millions of rows). */
export async function analyze(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('ANALYZE access_records');
  } finally {
    await c.end();
  }
}

/** Records seeded by archive -- seed (chains seed-1..K): the archived heads, without counting rows. */
export async function seededCount(pool: Pool): Promise<number> {
  const r = await pool.query<{ n: string | null }>(`SELECT sum(seq) AS n FROM archive_chains WHERE log = 'audit' AND instance LIKE 'seed-%'`);
  return Number(r.rows[0]!.n ?? 0);
}

/** Writes records 0..total-1 of the seeded history in `chains` hash chains, continuing where each ends; the records written. */
export async function seedHistory(pool: Pool, opts: { total: number; chains: number; spanDays: number; entities: number; prefix?: string; start?: string }): Promise<number> {
  let written = 0;
  const prefix = opts.prefix ?? 'seed-';
  // Record i belongs to chain i % chains; each chain is a real hash chain, continued where the archive ends.
  await Promise.all(
    Array.from({ length: opts.chains }, async (_, k) => {
      const chain = `${prefix}${k + 1}`;
      let { head } = await archivedHead(pool, 'audit', chain);
      const BATCH = 10_000;
      for (let seq = head.seq + 1; ; ) {
        const i0 = (seq - 1) * opts.chains + k;
        if (i0 >= opts.total) break;
        const from = head;
        const batch: LogRecord[] = [];
        for (let i = i0; i < opts.total && batch.length < BATCH; i += opts.chains, seq++) {
          const { line, hash } = chainLine(auditBody(seededAccess(i, { total: opts.total, spanDays: opts.spanDays, entities: opts.entities, ...(opts.start !== undefined ? { start: opts.start } : {}) })), chain, seq, head.hash);
          batch.push({ chain, seq, hash, line, where: 'seed' });
          head = { seq, hash };
        }
        await shipBatch(pool, await prepareBatch('audit', chain, from, batch));
        written += batch.length;
      }
    }),
  );
  return written;
}

/** Access history of `samples` seeded entity keys, one query each as an auditor's: latency p50 and p99 (ms). */
export async function entityHistory(pool: Pool, opts: { samples: number; entities: number }): Promise<{ p50: number; p99: number; recordsPerKey: number }> {
  const times: number[] = [];
  let found = 0;
  for (let s = 0; s < opts.samples; s++) {
    const key = seededEntityKey((s * 7919) % opts.entities);
    const t = performance.now();
    found += (await queryArchive(pool, { entityKey: key }, { first: 1000 })).records.length;
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return { p50: percentile(times, 50), p99: percentile(times, 99), recordsPerKey: Math.round(found / Math.max(1, opts.samples)) };
}

/** One quarter's statistics for one agency (as provider or consumer) from the daily counts: milliseconds and the rows it sums. */
export async function quarterStatistics(pool: Pool, q: { from: string; to: string; agency: string }): Promise<{ ms: number; rows: number; reads: number }> {
  const t = performance.now();
  const rows = await dailyUsage(pool, { ...q, agency: q.agency });
  const reads = rows.reduce((n, r) => n + r.allowed + r.denied, 0);
  return { ms: performance.now() - t, rows: rows.length, reads };
}

/** A month no seeded or real history uses, for the ingestion measurement's records (removed afterwards). */
const SCRATCH_MONTH = { start: '2031-01-01T00:00:00.000Z', partition: 'access_records_2031_01', days: ['2031-01-01', '2031-02-01'] };

/**
 * The ingestion rate of the shipper's path from stored lines to archived rows (each line parsed and
 * checked to link, COPY, chain head and daily counts in one transaction per batch of 5,000,
 * `chains` chains in parallel over the shipper's connections) into the archive at `url` as it is:
 * the records are made before the clock starts, then removed with their partition, chains and
 * counts.
 */
export async function ingestionRate(url: string, opts: { records: number; chains: number }): Promise<{ perSecond: number; seconds: number }> {
  const pool = openShipperPool(url);
  const prefix = `ingest-${process.pid}-`;
  const per = Math.ceil(opts.records / opts.chains);
  const chains = Array.from({ length: opts.chains }, (_, k) => {
    const chain = `${prefix}${k + 1}`;
    const batches: LogRecord[][] = [];
    let prev = '0'.repeat(64);
    for (let seq = 1; seq <= per; seq++) {
      const { line, hash } = chainLine(auditBody(seededAccess(seq * opts.chains + k, { total: per * opts.chains, start: SCRATCH_MONTH.start, spanDays: 28 })), chain, seq, prev);
      if ((seq - 1) % 5_000 === 0) batches.push([]);
      batches[batches.length - 1]!.push({ chain, seq, hash, line, where: 'ingest' });
      prev = hash;
    }
    return { chain, batches };
  });
  try {
    for (const c of chains) await archivedHead(pool, 'audit', c.chain);
    // The partition is made first, as the shipper's would be for the current month.
    await shipBatch(pool, await prepareBatch('audit', chains[0]!.chain, EMPTY_HEAD, chains[0]!.batches.shift()!));
    const t = performance.now();
    let n = 0;
    await Promise.all(
      chains.map(async (c) => {
        let head = (await archivedHead(pool, 'audit', c.chain)).head;
        for (const b of c.batches) {
          const batch = await prepareBatch('audit', c.chain, head, b);
          await shipBatch(pool, batch);
          head = batch.to;
          n += batch.records.length;
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    return { perSecond: Math.round(n / seconds), seconds };
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${SCRATCH_MONTH.partition}`);
    await pool.query('DELETE FROM access_daily WHERE day BETWEEN $1 AND $2', SCRATCH_MONTH.days);
    await pool.query('DELETE FROM access_coordinate_daily WHERE day BETWEEN $1 AND $2', SCRATCH_MONTH.days);
    await pool.query('DELETE FROM archive_chains WHERE instance LIKE $1', [`${prefix}%`]);
    await pool.end();
  }
}
