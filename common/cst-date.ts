/** China Standard Time: UTC+8 all year (no daylight saving). */
export const CST_OFFSET_MS = 8 * 3600 * 1000;

/** The calendar date (YYYY-MM-DD) of an instant in China Standard Time. */
export function cstDate(t: Date): string {
  return new Date(t.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}
