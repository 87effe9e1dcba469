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
