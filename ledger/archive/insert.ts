import type { Pool } from 'pg';
import type { ChainHead, LogRecord } from '../log/chain.ts';
import { cstDate } from '../../common/cst-date.ts';
import { copyArray, copyIn, copyRow, copyValue } from './copy.ts';
import { ARCHIVED_LOGS, ensurePartitions, monthOf, type ArchiveTable } from './schema.ts';

/** The archive's head of the chain moved while a batch was prepared (another shipper got there first). */
export class ArchiveConflictError extends Error {
  override readonly name = 'ArchiveConflictError';
}

type Parsed = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/**
 * How a table's rows are made from the stored lines: the columns, and each line's values in COPY's
 * text format. Node parses each line once (a few microseconds); PostgreSQL then only converts
 * text, with no JSON and no SQL per row.
 */
const ROWS: Readonly<Record<ArchiveTable, { columns: readonly string[]; values(r: Parsed, line: string): string[] }>> = {
  access_records: {
    columns: ['ts', 'instance', 'seq', 'prev', 'hash', 'request_id', 'operation_name', 'sub', 'agency', 'roles', 'purpose', 'coordinate', 'dataset', 'provider', 'class', 'decision', 'reason', 'grant_id', 'entity_keys', 'count', 'line'],
    values: (r, line) => [
      ...['ts', 'instance', 'seq', 'prev', 'hash', 'requestId', 'operationName', 'sub', 'agency'].map((k) => copyValue(k === 'seq' ? num(r[k]) : str(r[k]))),
      copyArray(r['roles'] as unknown[] | undefined),
      ...['purpose', 'coordinate', 'dataset', 'provider', 'class', 'decision', 'reason', 'grantId'].map((k) => copyValue(str(r[k]))),
      copyArray(r['entityKeys'] as unknown[] | undefined),
      copyValue(num(r['count'])),
      copyValue(line),
    ],
  },
  ledger_events: {
    columns: ['at', 'instance', 'seq', 'prev', 'hash', 'type', 'actor_agency', 'line'],
    values: (r, line) => [
      ...['at', 'instance'].map((k) => copyValue(str(r[k]))),
      copyValue(num(r['seq'])),
      ...['prev', 'hash', 'type'].map((k) => copyValue(str(r[k]))),
      copyValue(str((r['actor'] as Parsed | null | undefined)?.['agency'])),
      copyValue(line),
    ],
  },
};

/**
 * The usage statistics' daily counts (issue 4/8) of a batch of access records: one row per China
 * Standard Time day, provider, consumer, dataset and purpose, with its ALLOW and DENY counts. A
 * record without a dataset (an entity key, __typename) is not a use of data and is not counted.
 */
function dailyCounts(records: readonly Parsed[]): { day: string[]; provider: string[]; consumer: string[]; dataset: string[]; purpose: string[]; allowed: number[]; denied: number[] } {
  const cells = new Map<string, { k: string[]; allowed: number; denied: number }>();
  for (const r of records) {
    const dataset = str(r['dataset']);
    const ts = str(r['ts']);
    if (dataset === null || ts === null) continue;
    const k = [cstDate(new Date(ts)), str(r['provider']) ?? '', str(r['agency']) ?? '', dataset, str(r['purpose']) ?? ''];
    const key = k.join('\u0000');
    let c = cells.get(key);
    if (c === undefined) cells.set(key, (c = { k, allowed: 0, denied: 0 }));
    if (r['decision'] === 'ALLOW') c.allowed++;
    else c.denied++;
  }
  // Sorted, so concurrent batches lock the same rows in the same order (no deadlock between chains).
  const sorted = [...cells.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
  return { day: sorted.map((c) => c.k[0]!), provider: sorted.map((c) => c.k[1]!), consumer: sorted.map((c) => c.k[2]!), dataset: sorted.map((c) => c.k[3]!), purpose: sorted.map((c) => c.k[4]!), allowed: sorted.map((c) => c.allowed), denied: sorted.map((c) => c.denied) };
}

const ADD_DAILY = `
INSERT INTO access_daily (day, provider, consumer, dataset, purpose, allowed, denied)
SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
ON CONFLICT (day, provider, consumer, dataset, purpose) DO UPDATE SET allowed = access_daily.allowed + EXCLUDED.allowed, denied = access_daily.denied + EXCLUDED.denied`;

/** SQLSTATE when a row's time has no partition yet. */
const NO_PARTITION = '23514';
/** SQLSTATEs of a transaction PostgreSQL chose to abort for another's sake: simply run again. */
const RETRY = new Set(['40P01', '40001']);
const YIELD_EVERY = 500;

/** Registers a chain at seq 0 (nothing archived) if it is new; returns the archived head and any reported problem. */
export async function archivedHead(pool: Pool, log: string, chain: string): Promise<{ head: ChainHead; problem: string | null }> {
  await pool.query(`INSERT INTO archive_chains (log, instance, seq, hash) VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING`, [log, chain, '0'.repeat(64)]);
  const r = await pool.query<{ seq: string; hash: string; problem: string | null }>('SELECT seq, hash, problem FROM archive_chains WHERE log = $1 AND instance = $2', [log, chain]);
  const row = r.rows[0]!;
  return { head: { seq: Number(row.seq), hash: row.hash }, problem: row.problem };
}

/** Notes (or clears, with null) why shipping of a chain stopped, for `archive -- status`. */
export async function reportProblem(pool: Pool, log: string, chain: string, problem: string | null): Promise<void> {
  await pool.query('UPDATE archive_chains SET problem = $3 WHERE log = $1 AND instance = $2', [log, chain, problem]);
}

/**
 * Archives `records` (the chain's next ones after `from`, already checked to link) in one
 * transaction together with the chain's new head. Rejects with ArchiveConflictError when the
 * archive's head is no longer `from`; nothing is written then.
 */
export async function shipBatch(pool: Pool, log: string, chain: string, from: ChainHead, records: readonly LogRecord[]): Promise<void> {
  if (records.length === 0) return;
  const spec = ARCHIVED_LOGS[log];
  if (spec === undefined) throw new Error(`no archive table for log "${log}"`);
  const last = records[records.length - 1]!;
  const rows = ROWS[spec.table];
  const parsed: Parsed[] = [];
  let text = '';
  for (const [i, r] of records.entries()) {
    // Parsing is the shipper's one CPU cost in the gateway's process: a pause every few hundred
    // records keeps a batch of thousands from holding up the requests in between.
    if (i > 0 && i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    const p = JSON.parse(r.line) as Parsed;
    parsed.push(p);
    text += copyRow(rows.values(p, r.line));
  }
  const daily = spec.table === 'access_records' ? dailyCounts(parsed) : null;
  let partitioned = false;
  for (let attempt = 0; ; attempt++) {
    const c = await pool.connect();
    let failed = false;
    try {
      await c.query('BEGIN');
      const moved = await c.query('UPDATE archive_chains SET seq = $3, hash = $4, shipped_at = now(), problem = NULL WHERE log = $1 AND instance = $2 AND seq = $5 AND hash = $6', [log, chain, last.seq, last.hash, from.seq, from.hash]);
      if (moved.rowCount !== 1) throw new ArchiveConflictError(`the archive of ${log}/${chain} no longer ends at seq ${from.seq}`);
      await copyIn(c, spec.table, rows.columns, text);
      if (daily !== null && daily.day.length > 0) await c.query(ADD_DAILY, [daily.day, daily.provider, daily.consumer, daily.dataset, daily.purpose, daily.allowed, daily.denied]);
      await c.query('COMMIT');
      return;
    } catch (e) {
      failed = true;
      await c.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: string }).code;
      if (code !== undefined && RETRY.has(code) && attempt < 5) continue;
      if (code !== NO_PARTITION || partitioned) throw e;
      partitioned = true;
      await ensurePartitions(pool, spec.table, parsed.map((r) => monthOf(str(r[spec.timeField]) ?? '')));
    } finally {
      // After a failure the connection may be the broken one: never hand it out again.
      c.release(failed);
    }
  }
}
