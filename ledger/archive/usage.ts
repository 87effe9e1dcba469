import type { Pool } from 'pg';

/** One day's count of reads of one dataset by one consumer for one purpose (China Standard Time days). */
export interface DailyUsage {
  readonly day: string;
  readonly provider: string;
  readonly consumer: string;
  readonly dataset: string;
  /** null: no purpose declared. */
  readonly purpose: string | null;
  readonly allowed: number;
  readonly denied: number;
}

/**
 * The daily counts of days from..to (YYYY-MM-DD, inclusive) from `access_daily`, which the shipper
 * keeps in the same transaction as the records it counts: never a scan of the records. `agency`
 * (null: everything) keeps the rows where it is the provider or the consumer.
 */
export async function dailyUsage(pool: Pool, q: { from: string; to: string; agency: string | null }): Promise<DailyUsage[]> {
  const values: unknown[] = [q.from, q.to];
  let scope = '';
  if (q.agency !== null) {
    values.push(q.agency);
    scope = ' AND (provider = $3 OR consumer = $3)';
  }
  const r = await pool.query<{ day: string; provider: string; consumer: string; dataset: string; purpose: string; allowed: string; denied: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, provider, consumer, dataset, purpose, allowed, denied FROM access_daily WHERE day BETWEEN $1::date AND $2::date${scope}`,
    values,
  );
  return r.rows.map((x) => ({ day: x.day, provider: x.provider, consumer: x.consumer, dataset: x.dataset, purpose: x.purpose === '' ? null : x.purpose, allowed: Number(x.allowed), denied: Number(x.denied) }));
}

/** One consumer's reads of one field coordinate over some days. */
export interface CoordinateReadCount {
  readonly coordinate: string;
  readonly consumer: string;
  readonly reads: number;
}

/**
 * The reads of `coordinates` in days from..to (YYYY-MM-DD, inclusive), per coordinate and
 * consumer, from `access_coordinate_daily`: one index range per coordinate (its key leads with
 * the coordinate, then the day), whose rows are days × consumers, never the records.
 */
export async function coordinateReads(pool: Pool, q: { coordinates: readonly string[]; from: string; to: string }): Promise<CoordinateReadCount[]> {
  if (q.coordinates.length === 0) return [];
  const r = await pool.query<{ coordinate: string; consumer: string; reads: string }>(
    `SELECT coordinate, consumer, sum(reads) AS reads FROM access_coordinate_daily
     WHERE coordinate = ANY($1::text[]) AND day BETWEEN $2::date AND $3::date GROUP BY coordinate, consumer`,
    [[...new Set(q.coordinates)], q.from, q.to],
  );
  return r.rows.map((x) => ({ coordinate: x.coordinate, consumer: x.consumer, reads: Number(x.reads) }));
}
