import type { Pool } from 'pg';
import type { ChainHead, LogRecord } from '../log/chain.ts';
import { ARCHIVED_LOGS, ensurePartitions, monthOf, type ArchiveTable } from './schema.ts';

/** The archive's head of the chain moved while a batch was prepared (another shipper got there first). */
export class ArchiveConflictError extends Error {
  override readonly name = 'ArchiveConflictError';
}

/**
 * One multi-row INSERT per batch: the lines go over as one text[] parameter and PostgreSQL parses
 * them itself, which keeps the shipper's CPU off the request path's. `OFFSET 0` keeps the parsed
 * jsonb from being inlined into every column expression (parsed once per row, not once per column:
 * five times faster).
 */
const INSERTS: Readonly<Record<ArchiveTable, string>> = {
  access_records: `
INSERT INTO access_records (ts, instance, seq, prev, hash, request_id, operation_name, sub, agency, roles, purpose, coordinate,
  dataset, provider, class, decision, reason, grant_id, entity_keys, count, line)
SELECT (r->>'ts')::timestamptz, r->>'instance', (r->>'seq')::bigint, r->>'prev', r->>'hash', r->>'requestId', r->>'operationName', r->>'sub',
  r->>'agency', ARRAY(SELECT jsonb_array_elements_text(r->'roles')), r->>'purpose', r->>'coordinate', r->>'dataset', r->>'provider',
  r->>'class', r->>'decision', r->>'reason', r->>'grantId', ARRAY(SELECT jsonb_array_elements_text(r->'entityKeys')), (r->>'count')::int, l
FROM (SELECT l, l::jsonb AS r FROM unnest($1::text[]) AS l OFFSET 0) AS j`,
  ledger_events: `
INSERT INTO ledger_events (at, instance, seq, prev, hash, type, actor_agency, line)
SELECT (r->>'at')::timestamptz, r->>'instance', (r->>'seq')::bigint, r->>'prev', r->>'hash', r->>'type', r->'actor'->>'agency', l
FROM (SELECT l, l::jsonb AS r FROM unnest($1::text[]) AS l OFFSET 0) AS j`,
};

/** SQLSTATE when a row's time has no partition yet. */
const NO_PARTITION = '23514';

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
  const lines = records.map((r) => r.line);
  for (let attempt = 0; ; attempt++) {
    const c = await pool.connect();
    let failed = false;
    try {
      await c.query('BEGIN');
      const moved = await c.query('UPDATE archive_chains SET seq = $3, hash = $4, shipped_at = now(), problem = NULL WHERE log = $1 AND instance = $2 AND seq = $5 AND hash = $6', [log, chain, last.seq, last.hash, from.seq, from.hash]);
      if (moved.rowCount !== 1) throw new ArchiveConflictError(`the archive of ${log}/${chain} no longer ends at seq ${from.seq}`);
      await c.query(INSERTS[spec.table], [lines]);
      await c.query('COMMIT');
      return;
    } catch (e) {
      failed = true;
      await c.query('ROLLBACK').catch(() => undefined);
      if ((e as { code?: string }).code !== NO_PARTITION || attempt > 0) throw e;
      await ensurePartitions(pool, spec.table, records.map((r) => monthOf((JSON.parse(r.line) as Record<string, string>)[spec.timeField] ?? '')));
    } finally {
      // After a failure the connection may be the broken one: never hand it out again.
      c.release(failed);
    }
  }
}
