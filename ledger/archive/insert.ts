import type { Pool } from 'pg';
import { parsedLinkProblem, type ChainHead, type LogRecord } from '../log/chain.ts';
import { cstDate } from '../../common/cst-date.ts';
import { BinaryRows, copyIn, microsOf } from './copy.ts';
import { ARCHIVED_LOGS, ensurePartitions, monthOf, type ArchiveTable } from './schema.ts';

/** The archive's head of the chain moved while a batch was prepared (another shipper got there first). */
export class ArchiveConflictError extends Error {
  override readonly name = 'ArchiveConflictError';
}

type Parsed = Record<string, unknown>;

const str = (x: unknown): string | null => (x === null || x === undefined ? null : typeof x === 'string' ? x : JSON.stringify(x));
/** A field that must be there (a NOT NULL column): its absence is the record's problem, named. */
const must = (r: Parsed, field: string): unknown => {
  const x = r[field];
  if (x === null || x === undefined) throw new RecordProblem(`the record has no ${field}`);
  return x;
};
/** A time field in microseconds since the Unix epoch. */
const time = (r: Parsed, field: string): number => {
  const x = must(r, field);
  const micros = typeof x === 'string' ? microsOf(x) : NaN;
  if (Number.isNaN(micros)) throw new RecordProblem(`${field} is not a time`);
  return micros;
};

/** Why a record that links cannot be a row: the batch stops before it, as at a broken link. */
class RecordProblem extends Error {}

/** Starts a row of `fields` values with the columns every table begins with: the time and the chain fields (checked to link before). */
function chainColumns(out: BinaryRows, fields: number, micros: number, r: Parsed): void {
  out.row(fields);
  out.timestamptz(micros);
  out.text(r['instance'] as string);
  out.int8(r['seq'] as number);
  out.text(r['prev'] as string);
  out.text(r['hash'] as string);
}

/**
 * How a table's rows are made from the parsed lines: the columns, and each record's row in COPY's
 * binary format. Node parses each line once; PostgreSQL then parses nothing per row.
 */
const ROWS: Readonly<Record<ArchiveTable, { columns: readonly string[]; row(out: BinaryRows, r: Parsed, line: string): void }>> = {
  access_records: {
    columns: ['ts', 'instance', 'seq', 'prev', 'hash', 'agency', 'purpose', 'coordinate', 'dataset', 'provider', 'decision', 'entity_keys', 'line'],
    row: (out, r, line) => {
      const ts = time(r, 'ts');
      const agency = str(must(r, 'agency'));
      const coordinate = str(must(r, 'coordinate'));
      const decision = str(must(r, 'decision'));
      const keys = r['entityKeys'];
      chainColumns(out, 13, ts, r);
      out.text(agency);
      out.text(str(r['purpose']));
      out.text(coordinate);
      out.text(str(r['dataset']));
      out.text(str(r['provider']));
      out.text(decision);
      out.textArray(Array.isArray(keys) ? keys.map(String) : []);
      out.text(line);
    },
  },
  ledger_events: {
    columns: ['at', 'instance', 'seq', 'prev', 'hash', 'type', 'actor_agency', 'line'],
    row: (out, r, line) => {
      const at = time(r, 'at');
      const type = str(must(r, 'type'));
      chainColumns(out, 8, at, r);
      out.text(type);
      out.text(str((r['actor'] as Parsed | null | undefined)?.['agency']));
      out.text(line);
    },
  },
};

/**
 * The daily counts of a batch of access records. The usage statistics' (issue 4/8): one row per
 * China Standard Time day, provider, consumer, dataset and purpose, with its ALLOW and DENY
 * counts; a record without a dataset (an entity key, __typename) is not a use of data and is not
 * counted there. And the reads of each field coordinate by each consumer per day (the registry's
 * check of a proposal): every allowed record, key fields included, since removing one breaks
 * whoever selected it.
 */
class DailyTally {
  private readonly cells = new Map<string, { k: string[]; allowed: number; denied: number }>();
  private readonly reads = new Map<string, { k: string[]; reads: number }>();
  /** The CST day of each UTC hour seen ("2026-11-25T17" → "2026-11-26"): one Date per hour, not per record. */
  private readonly days = new Map<string, string>();

  add(r: Parsed): void {
    const ts = str(r['ts']);
    if (ts === null) return;
    // Only a UTC time as the gateway writes it ("…T17:02:00.960Z") is keyed by its hour; any other form is converted on its own.
    const hour = ts.length === 24 && ts.endsWith('Z') ? ts.slice(0, 13) : null;
    let day = hour === null ? undefined : this.days.get(hour);
    if (day === undefined) {
      day = cstDate(new Date(ts));
      if (hour !== null) this.days.set(hour, day);
    }
    const consumer = str(r['agency']) ?? '';
    const allowed = r['decision'] === 'ALLOW';
    const coordinate = str(r['coordinate']);
    if (allowed && coordinate !== null) {
      const key = `${coordinate}\u0000${day}\u0000${consumer}`;
      const c = this.reads.get(key);
      if (c === undefined) this.reads.set(key, { k: [coordinate, day, consumer], reads: 1 });
      else c.reads++;
    }
    const dataset = str(r['dataset']);
    if (dataset === null) return;
    const provider = str(r['provider']) ?? '';
    const purpose = str(r['purpose']) ?? '';
    const key = `${day}\u0000${provider}\u0000${consumer}\u0000${dataset}\u0000${purpose}`;
    let c = this.cells.get(key);
    if (c === undefined) this.cells.set(key, (c = { k: [day, provider, consumer, dataset, purpose], allowed: 0, denied: 0 }));
    if (allowed) c.allowed++;
    else c.denied++;
  }

  /** ADD_DAILY's parameters, or null when nothing was counted. */
  parameters(): unknown[] | null {
    if (this.cells.size === 0) return null;
    const sorted = sortedValues(this.cells);
    return [...[0, 1, 2, 3, 4].map((i) => sorted.map((c) => c.k[i]!)), sorted.map((c) => c.allowed), sorted.map((c) => c.denied)];
  }

  /** ADD_READS' parameters, or null when nothing was read. */
  readParameters(): unknown[] | null {
    if (this.reads.size === 0) return null;
    const sorted = sortedValues(this.reads);
    return [...[0, 1, 2].map((i) => sorted.map((c) => c.k[i]!)), sorted.map((c) => c.reads)];
  }
}

/** Sorted by key, so concurrent batches lock the same rows in the same order (no deadlock between chains). */
function sortedValues<T>(m: ReadonlyMap<string, T>): T[] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
}

const ADD_DAILY = `
INSERT INTO access_daily (day, provider, consumer, dataset, purpose, allowed, denied)
SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
ON CONFLICT (day, provider, consumer, dataset, purpose) DO UPDATE SET allowed = access_daily.allowed + EXCLUDED.allowed, denied = access_daily.denied + EXCLUDED.denied`;

const ADD_READS = `
INSERT INTO access_coordinate_daily (coordinate, day, consumer, reads)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[])
ON CONFLICT (coordinate, day, consumer) DO UPDATE SET reads = access_coordinate_daily.reads + EXCLUDED.reads`;

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

/** A chain's next records made ready for the archive: checked to link, as COPY rows, with their daily counts. */
export interface PreparedBatch {
  readonly log: string;
  readonly chain: string;
  readonly from: ChainHead;
  /** The head after the batch's last record (`from` when the batch is empty). */
  readonly to: ChainHead;
  readonly records: readonly LogRecord[];
  readonly rows: Buffer;
  readonly counts: unknown[] | null;
  /** The reads per coordinate, day and consumer, for the same transaction. */
  readonly reads: unknown[] | null;
  /** Why the record after the batch does not link (the batch stops before it), or null. */
  readonly problem: string | null;
}

/**
 * Takes up to `max` of the chain's records after `from`, each parsed once: checked to link to the
 * one before (a gap or an edit ends the batch and is its `problem`, never papered over), turned into
 * its COPY row and counted into the daily usage.
 */
export async function prepareBatch(log: string, chain: string, from: ChainHead, records: readonly LogRecord[], max = records.length): Promise<PreparedBatch> {
  const spec = ARCHIVED_LOGS[log];
  if (spec === undefined) throw new Error(`no archive table for log "${log}"`);
  const rows = ROWS[spec.table];
  const n = Math.min(max, records.length);
  const out = new BinaryRows(n * 1024);
  const daily = spec.table === 'access_records' ? new DailyTally() : null;
  let to = from;
  let problem: string | null = null;
  let i = 0;
  for (; i < n; i++) {
    // Parsing is the shipper's one CPU cost in the gateway's process: a pause every few hundred
    // records keeps a batch of thousands from holding up the requests in between.
    if (i > 0 && i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    const r = records[i]!;
    let p: Parsed | null = null;
    try {
      p = JSON.parse(r.line) as Parsed;
    } catch {
      // torn or corrupted: parsedLinkProblem names it
    }
    let why = parsedLinkProblem(r.line, p, chain, to);
    if (why === null && p !== null) {
      try {
        rows.row(out, p, r.line);
      } catch (e) {
        if (!(e instanceof RecordProblem)) throw e;
        why = e.message;
      }
    }
    if (why !== null || p === null) {
      problem = `after seq ${to.seq}: ${why ?? 'not a JSON record'} (${r.where})`;
      break;
    }
    daily?.add(p);
    // The fields the link check has just verified, not the reader's reading of the line's tail.
    to = { seq: p['seq'] as number, hash: p['hash'] as string };
  }
  return { log, chain, from, to, records: records.slice(0, i), rows: out.end(), counts: daily?.parameters() ?? null, reads: daily?.readParameters() ?? null, problem };
}

/**
 * Archives a prepared batch in one transaction together with the chain's new head. Rejects with
 * ArchiveConflictError when the archive's head is no longer the batch's `from`; nothing is written
 * then.
 */
export async function shipBatch(pool: Pool, batch: PreparedBatch): Promise<void> {
  const { log, chain, from, to, records } = batch;
  if (records.length === 0) return;
  const spec = ARCHIVED_LOGS[log]!;
  const rows = ROWS[spec.table];
  let partitioned = false;
  for (let attempt = 0; ; attempt++) {
    const c = await pool.connect();
    let failed = false;
    let failure: unknown;
    try {
      await c.query('BEGIN');
      const moved = await c.query('UPDATE archive_chains SET seq = $3, hash = $4, shipped_at = now(), problem = NULL WHERE log = $1 AND instance = $2 AND seq = $5 AND hash = $6', [log, chain, to.seq, to.hash, from.seq, from.hash]);
      if (moved.rowCount !== 1) throw new ArchiveConflictError(`the archive of ${log}/${chain} no longer ends at seq ${from.seq}`);
      await copyIn(c, spec.table, rows.columns, batch.rows);
      if (batch.counts !== null) await c.query(ADD_DAILY, batch.counts);
      if (batch.reads !== null) await c.query(ADD_READS, batch.reads);
      await c.query('COMMIT');
      return;
    } catch (e) {
      failed = true;
      failure = e;
      await c.query('ROLLBACK').catch(() => undefined);
    } finally {
      // After a failure the connection may be the broken one: never hand it out again.
      c.release(failed);
    }
    const code = (failure as { code?: string }).code;
    if (code !== undefined && RETRY.has(code) && attempt < 5) continue;
    if (code !== NO_PARTITION || partitioned) throw failure;
    partitioned = true;
    // Rare (a new month), and on a connection of its own once this one is back in the pool: the
    // lines are read again rather than kept parsed.
    await ensurePartitions(pool, spec.table, records.map((r) => monthOf(str((JSON.parse(r.line) as Parsed)[spec.timeField]) ?? '')));
  }
}
