/**
 * providers keep shared data current — real time, daily, weekly or monthly, and at least
 * once a quarter, within the first 10 days of the quarter's first month. Pure functions of the
 * declared frequency, the last reported update and now (China Standard Time).
 */
export type Frequency = 'REALTIME' | 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'QUARTERLY';
export type Freshness = 'FRESH' | 'OVERDUE' | 'NEVER_REPORTED';
export const FREQUENCIES: readonly Frequency[] = ['REALTIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CST = 8 * HOUR;

// How old the last update may be, with one day's grace for the provider's own schedule.
const MAX_AGE: Readonly<Record<Exclude<Frequency, 'QUARTERLY'>, number>> = {
  REALTIME: DAY,
  DAILY: 2 * DAY,
  WEEKLY: 8 * DAY,
  MONTHLY: 32 * DAY,
};

/** The instant (UTC ms) a quarter starts in China Standard Time: 1 Jan, 1 Apr, 1 Jul or 1 Oct. */
function quarterStart(year: number, quarter: number): number {
  const y = year + Math.floor(quarter / 4);
  const q = ((quarter % 4) + 4) % 4;
  return Date.UTC(y, q * 3, 1) - CST;
}

/**
 * The earliest update that still counts at `now`: for quarterly data, once the 10th day of a
 * quarter's first month has ended, an update made in that quarter; before, one from the last.
 */
export function dueSince(frequency: Frequency, now: number): number {
  if (frequency !== 'QUARTERLY') return now - MAX_AGE[frequency];
  const local = new Date(now + CST);
  const quarter = Math.floor(local.getUTCMonth() / 3);
  const start = quarterStart(local.getUTCFullYear(), quarter);
  const deadline = start + 10 * DAY; // end of the 10th day
  return now >= deadline ? start : quarterStart(local.getUTCFullYear(), quarter - 1);
}

export function freshness(frequency: Frequency, lastUpdate: number | null, now: number): Freshness {
  if (lastUpdate === null) return 'NEVER_REPORTED';
  return lastUpdate >= dueSince(frequency, now) ? 'FRESH' : 'OVERDUE';
}
