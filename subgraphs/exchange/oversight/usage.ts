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

/**
 * The China Standard Time day of an access record's time, worked out once per clock hour of
 * records: the log's times are ISO UTC (…Z), and every record of one UTC hour falls on one day.
 */
export class DayOf {
  private hour = '';
  private day = '';
  of(ts: string): string {
    const hour = ts.length === 24 && ts.endsWith('Z') ? ts.slice(0, 13) : null;
    if (hour !== null && hour === this.hour) return this.day;
    const day = cstDate(new Date(ts));
    if (hour !== null) {
      this.hour = hour;
      this.day = day;
    }
    return day;
  }
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
  /** The cells of each day, so a question visits only the days it covers. */
  private readonly days = new Map<string, Cell[]>();
  private readonly day = new DayOf();

  /** Counts one record; a field with no dataset (entity keys, __typename) is not a use of data. */
  add(r: AccessFacts): void {
    if (r.dataset === null) return;
    const cell = this.cellOf(this.day.of(r.ts), r.provider ?? '', r.agency, r.dataset, r.purpose);
    if (r.decision === 'ALLOW') cell.allowed++;
    else cell.denied++;
  }

  /** Adds one day's counts as the archive keeps them (provider '' when none, like a record's). */
  addDay(d: { day: string; provider: string; consumer: string; dataset: string; purpose: string | null; allowed: number; denied: number }): void {
    const cell = this.cellOf(d.day, d.provider, d.consumer, d.dataset, d.purpose);
    cell.allowed += d.allowed;
    cell.denied += d.denied;
  }

  /** How many distinct (day, provider, consumer, dataset, purpose) counts are kept. */
  get size(): number {
    return this.cells.size;
  }

  private cellOf(day: string, provider: string, consumer: string, dataset: string, purpose: string | null): Cell {
    const key = `${day}\u0000${provider}\u0000${consumer}\u0000${dataset}\u0000${purpose ?? ''}`;
    let cell = this.cells.get(key);
    if (cell === undefined) {
      this.cells.set(key, (cell = { day, provider, consumer, dataset, purpose, allowed: 0, denied: 0 }));
      let list = this.days.get(day);
      if (list === undefined) this.days.set(day, (list = []));
      list.push(cell);
    }
    return cell;
  }

  /**
   * Sums the counts of days from..to (inclusive, YYYY-MM-DD), seen by `agency` (null: everything;
   * otherwise only rows where it is the provider or the consumer), grouped by the given dimensions.
   */
  rows(opts: UsageQuery): UsageRow[] {
    const by = new Set(opts.groupBy);
    const [provider, consumer, dataset, purpose, quarter] = (['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE', 'QUARTER'] as const).map((d) => by.has(d));
    const out = new Map<string, { row: Omit<UsageRow, 'allowed' | 'denied'>; allowed: number; denied: number }>();
    for (const [day, cells] of this.days) {
      if (day < opts.from || day > opts.to) continue;
      const q = quarter ? quarterOf(day) : '';
      for (const c of cells) {
        if (opts.agency !== null && c.provider !== opts.agency && c.consumer !== opts.agency) continue;
        const key = `${provider ? c.provider : ''}\u0000${consumer ? c.consumer : ''}\u0000${dataset ? c.dataset : ''}\u0000${purpose ? (c.purpose ?? '\u0001') : ''}\u0000${q}`;
        let sum = out.get(key);
        if (sum === undefined) {
          const row = { provider: provider ? c.provider : null, consumer: consumer ? c.consumer : null, dataset: dataset ? c.dataset : null, purpose: purpose ? c.purpose : null, quarter: quarter ? q : null };
          out.set(key, (sum = { row, allowed: 0, denied: 0 }));
        }
        sum.allowed += c.allowed;
        sum.denied += c.denied;
      }
    }
    return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => ({ ...s.row, allowed: s.allowed, denied: s.denied }));
  }
}

/** The fields of an access record the per-coordinate counts read. */
export interface CoordinateFacts {
  readonly ts: string;
  readonly agency: string;
  readonly coordinate: string;
  readonly decision: 'ALLOW' | 'DENY';
}

/** One consumer's reads of one coordinate over some days. */
export interface CoordinateReaders {
  readonly coordinate: string;
  readonly consumer: string;
  readonly reads: number;
}

/**
 * Reads of each field coordinate by each consumer per day, as running counts beside the usage
 * statistics: the check of a registry proposal asks who read a field it would remove or close in
 * the last 90 days, and sums these counts (days × consumers of the coordinates asked), never the
 * records. A denied access is not a read: nothing was delivered that a change could break.
 */
export class CoordinateReads {
  /** day → coordinate → consumer → reads */
  private readonly days = new Map<string, Map<string, Map<string, number>>>();
  private readonly day = new DayOf();

  add(r: CoordinateFacts): void {
    if (r.decision !== 'ALLOW' || typeof r.coordinate !== 'string') return;
    this.addDay(this.day.of(r.ts), r.coordinate, r.agency, 1);
  }

  /** Adds `reads` of one day (YYYY-MM-DD, China Standard Time). */
  addDay(day: string, coordinate: string, consumer: string, reads: number): void {
    let coordinates = this.days.get(day);
    if (coordinates === undefined) this.days.set(day, (coordinates = new Map<string, Map<string, number>>()));
    let consumers = coordinates.get(coordinate);
    if (consumers === undefined) coordinates.set(coordinate, (consumers = new Map<string, number>()));
    consumers.set(consumer, (consumers.get(consumer) ?? 0) + reads);
  }

  /** The reads of `coordinates` in days from..to (inclusive), summed per coordinate and consumer. */
  readers(coordinates: readonly string[], from: string, to: string): CoordinateReaders[] {
    const sums = new Map<string, Map<string, number>>();
    for (const [day, byCoordinate] of this.days) {
      if (day < from || day > to) continue;
      for (const c of coordinates) {
        const consumers = byCoordinate.get(c);
        if (consumers === undefined) continue;
        let sum = sums.get(c);
        if (sum === undefined) sums.set(c, (sum = new Map<string, number>()));
        for (const [consumer, n] of consumers) sum.set(consumer, (sum.get(consumer) ?? 0) + n);
      }
    }
    const out: CoordinateReaders[] = [];
    for (const [coordinate, sum] of sums) for (const [consumer, reads] of sum) out.push({ coordinate, consumer, reads });
    return out;
  }
}
