import { cstDate } from '../workdays.ts';

/**
 * Usage statistics as running counts: each access record adds one to the count of its day,
 * provider, consumer, dataset, purpose and decision, once, as the access log grows. A question
 * sums the counts it covers, never the records: the cost is the number of distinct keys, however
 * many millions of records they stand for.
 */
export type UsageDimension = 'PROVIDER' | 'CONSUMER' | 'DATASET' | 'PURPOSE' | 'QUARTER';

export interface UsageRow {
  readonly provider: string | null;
  readonly consumer: string | null;
  readonly dataset: string | null;
  readonly purpose: string | null;
  readonly quarter: string | null;
  readonly allowed: number;
  readonly denied: number;
}

/** The fields of an access record the statistics read. */
export interface AccessFacts {
  readonly ts: string;
  readonly agency: string;
  readonly provider: string | null;
  readonly dataset: string | null;
  readonly purpose: string | null;
  readonly decision: 'ALLOW' | 'DENY';
}

interface Cell {
  readonly day: string;
  readonly provider: string;
  readonly consumer: string;
  readonly dataset: string;
  readonly purpose: string | null;
  allowed: number;
  denied: number;
}

/** 2026-05-03 → 2026-Q2 (days in China Standard Time). */
export function quarterOf(day: string): string {
  return `${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;
}

/** The first and last day of a quarter. */
export function quarterSpan(year: number, quarter: number): { from: string; to: string } {
  const m = (quarter - 1) * 3 + 1;
  const last = new Date(Date.UTC(year, m + 2, 0)).getUTCDate();
  return { from: `${year}-${String(m).padStart(2, '0')}-01`, to: `${year}-${String(m + 2).padStart(2, '0')}-${last}` };
}

export interface UsageQuery {
  readonly from: string;
  readonly to: string;
  readonly groupBy: readonly UsageDimension[];
  readonly agency: string | null;
}

/** Where the statistics come from: the access log followed in memory, or the PostgreSQL archive's daily counts. */
export interface UsageSource {
  rows(q: UsageQuery): Promise<UsageRow[]>;
  close(): Promise<void>;
}

export class UsageCounts {
  private readonly cells = new Map<string, Cell>();

  /** Counts one record; a field with no dataset (entity keys, __typename) is not a use of data. */
  add(r: AccessFacts): void {
    if (r.dataset === null) return;
    const day = cstDate(new Date(r.ts));
    const key = `${day}\u0000${r.provider ?? ''}\u0000${r.agency}\u0000${r.dataset}\u0000${r.purpose ?? ''}`;
    let cell = this.cells.get(key);
    if (cell === undefined) this.cells.set(key, (cell = { day, provider: r.provider ?? '', consumer: r.agency, dataset: r.dataset, purpose: r.purpose, allowed: 0, denied: 0 }));
    if (r.decision === 'ALLOW') cell.allowed++;
    else cell.denied++;
  }

  /** Adds one day's counts as the archive keeps them (provider '' when none, like a record's). */
  addDay(d: { day: string; provider: string; consumer: string; dataset: string; purpose: string | null; allowed: number; denied: number }): void {
    const key = `${d.day}\u0000${d.provider}\u0000${d.consumer}\u0000${d.dataset}\u0000${d.purpose ?? ''}`;
    let cell = this.cells.get(key);
    if (cell === undefined) this.cells.set(key, (cell = { day: d.day, provider: d.provider, consumer: d.consumer, dataset: d.dataset, purpose: d.purpose, allowed: 0, denied: 0 }));
    cell.allowed += d.allowed;
    cell.denied += d.denied;
  }

  /**
   * Sums the counts of days from..to (inclusive, YYYY-MM-DD), seen by `agency` (null: everything;
   * otherwise only rows where it is the provider or the consumer), grouped by the given dimensions.
   */
  rows(opts: UsageQuery): UsageRow[] {
    const by = new Set(opts.groupBy);
    const out = new Map<string, { row: Omit<UsageRow, 'allowed' | 'denied'>; allowed: number; denied: number }>();
    for (const c of this.cells.values()) {
      if (c.day < opts.from || c.day > opts.to) continue;
      if (opts.agency !== null && c.provider !== opts.agency && c.consumer !== opts.agency) continue;
      const row = {
        provider: by.has('PROVIDER') ? c.provider : null,
        consumer: by.has('CONSUMER') ? c.consumer : null,
        dataset: by.has('DATASET') ? c.dataset : null,
        purpose: by.has('PURPOSE') ? c.purpose : null,
        quarter: by.has('QUARTER') ? quarterOf(c.day) : null,
      };
      const key = JSON.stringify(row);
      let sum = out.get(key);
      if (sum === undefined) out.set(key, (sum = { row, allowed: 0, denied: 0 }));
      sum.allowed += c.allowed;
      sum.denied += c.denied;
    }
    return [...out.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => ({ ...s.row, allowed: s.allowed, denied: s.denied }));
  }
}
