import type { Pool } from 'pg';
import type { AuditFilter } from '../../common/access-record.ts';

/** What an auditor may ask of the access log: the log reader's filter, scope (`party`) included. */
export type ArchiveFilter = AuditFilter;

export interface ArchivePage {
  readonly first: number;
  readonly after?: string;
}

/**
 * The SELECT for one page of access records matching `filter`, in (ts, instance, seq) order; the
 * cursor is the one the log reader gives (`ts \0 instance \0 seq`), so a client can page through
 * either. Each term maps to an index: entity keys to the GIN index, the rest to (column, ts).
 */
export function accessQuery(filter: ArchiveFilter, page: ArchivePage): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  if (filter.agency !== undefined) where.push(`agency = ${param(filter.agency)}`);
  if (filter.dataset !== undefined) where.push(`dataset = ${param(filter.dataset)}`);
  if (filter.coordinate !== undefined) where.push(`coordinate = ${param(filter.coordinate)}`);
  if (filter.decision !== undefined) where.push(`decision = ${param(filter.decision)}`);
  if (filter.entityKey !== undefined) where.push(`entity_keys @> ARRAY[${param(filter.entityKey)}]::text[]`);
  if (filter.since !== undefined) where.push(`ts >= ${param(time('since', filter.since))}::timestamptz`);
  if (filter.until !== undefined) where.push(`ts <= ${param(time('until', filter.until))}::timestamptz`);
  if (filter.party !== undefined) {
    const p = param(filter.party);
    where.push(`(agency = ${p} OR provider = ${p})`);
  }
  if (page.after !== undefined) {
    const [ts, instance, seq] = Buffer.from(page.after, 'base64url').toString('utf8').split('\u0000');
    if (ts === undefined || instance === undefined || seq === undefined || !/^\d+$/.test(seq) || Number.isNaN(Date.parse(ts))) throw new Error('after is not a cursor this query gave');
    where.push(`(ts, instance, seq) > (${param(ts)}::timestamptz, ${param(instance)}, ${param(Number(seq))}::bigint)`);
  }
  const limit = param(page.first + 1);
  return { text: `SELECT line FROM access_records${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts, instance, seq LIMIT ${limit}`, values };
}

function time(name: string, v: string): string {
  if (Number.isNaN(Date.parse(v))) throw new Error(`${name} must be an ISO time, got "${v}"`);
  return v;
}

/** The cursor of a record for the next page: the same text the log reader's cursor encodes. */
function cursorOf(r: { ts: string; instance: string; seq: number }): string {
  return Buffer.from(`${r.ts}\u0000${r.instance}\u0000${String(r.seq).padStart(12, '0')}`).toString('base64url');
}

/** One page of matching access records from the archive, as the log stores them. */
export async function queryArchive(pool: Pool, filter: ArchiveFilter, page: ArchivePage): Promise<{ records: object[]; next: string | null }> {
  const q = accessQuery(filter, page);
  const rows = (await pool.query<{ line: string }>(q.text, q.values)).rows;
  const records = rows.slice(0, page.first).map((r) => JSON.parse(r.line) as { ts: string; instance: string; seq: number });
  return { records, next: rows.length > page.first ? cursorOf(records[records.length - 1]!) : null };
}
