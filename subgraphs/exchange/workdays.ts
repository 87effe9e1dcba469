import { readdirSync, readFileSync } from 'node:fs';
import { CST_OFFSET_MS, cstDate } from '../../common/cst-date.ts';

/**
 * Working days on the official calendar: weekends and public holidays off, make-up days
 * on. Dates are China Standard Time (UTC+8, no daylight saving). A year without a calendar file
 * is counted on weekends alone, and a file that is not yet the year's official arrangement says
 * why in `provisional`: days counted in either are reported as provisional.
 */
interface CalendarFile {
  readonly year: number;
  readonly source: string;
  readonly holidays: readonly { name: string; dates: readonly string[] }[];
  readonly makeupWorkdays: readonly { name: string; date: string }[];
  /** Why this year's file is not yet the official arrangement; absent once it is. */
  readonly provisional?: string;
}

const DIR = new URL('./calendar/', import.meta.url);
export const CALENDARS: readonly CalendarFile[] = readdirSync(DIR)
  .filter((f) => /^\d{4}\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as CalendarFile);
export const CALENDAR_YEARS: readonly number[] = CALENDARS.map((c) => c.year).sort();
const HOLIDAYS = new Set(CALENDARS.flatMap((c) => c.holidays.flatMap((h) => h.dates)));
const MAKEUP = new Set(CALENDARS.flatMap((c) => c.makeupWorkdays.map((m) => m.date)));
const OFFICIAL_YEARS = new Set(CALENDARS.filter((c) => c.provisional === undefined).map((c) => c.year));

const DAY_MS = 86_400_000;

export { cstDate };

function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

export function isWorkingDay(date: string): { working: boolean; provisional: boolean } {
  const provisional = !OFFICIAL_YEARS.has(Number(date.slice(0, 4)));
  if (MAKEUP.has(date)) return { working: true, provisional };
  if (HOLIDAYS.has(date)) return { working: false, provisional };
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return { working: dow !== 0 && dow !== 6, provisional };
}

export interface Deadline {
  /** The last working day; the deadline is its end, 23:59:59.999 China Standard Time. */
  readonly dueBy: string;
  readonly dueAt: Date;
  readonly provisional: boolean;
}

/** `days` working days after the day of receipt (which does not count). */
export function addWorkingDays(receivedAt: Date, days: number): Deadline {
  let date = cstDate(receivedAt);
  let provisional = false;
  let counted = 0;
  while (counted < days) {
    date = nextDate(date);
    const d = isWorkingDay(date);
    provisional ||= d.provisional;
    if (d.working) counted++;
  }
  return { dueBy: date, dueAt: endOfDay(date), provisional };
}

export function endOfDay(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS - CST_OFFSET_MS - 1);
}

/** Working days left to answer: today counts while it is a working day; 0 once past due. */
export function workingDaysLeft(now: Date, dueBy: string): number {
  let date = cstDate(now);
  if (date > dueBy) return 0;
  let left = 0;
  for (;;) {
    if (isWorkingDay(date).working) left++;
    if (date === dueBy) return left;
    date = nextDate(date);
  }
}

export function isOverdue(now: Date, dueAt: Date): boolean {
  return now.getTime() > dueAt.getTime();
}
