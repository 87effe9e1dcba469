/**
 * Validity of grants and agreements. A bare date is a whole UTC day: valid from 2026-01-01 means
 * from its first instant, valid until 2027-12-31 means through its last. A date-time names an
 * instant (with Z or an offset, never local time): in force from it, no longer in force at it.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

function realDay(y: string, m: string, d: string): number | null {
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March; a date that does not round-trip does not exist.
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(m) - 1 || back.getUTCDate() !== Number(d)) return null;
  return ms;
}

function parse(text: string, endOfDay: boolean): number | null {
  const date = DATE.exec(text);
  if (date !== null) {
    const day = realDay(date[1]!, date[2]!, date[3]!);
    return day === null ? null : endOfDay ? day + DAY_MS : day;
  }
  const dt = DATE_TIME.exec(text);
  if (dt === null || realDay(dt[1]!, dt[2]!, dt[3]!) === null) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** The first instant in force, or null when the text is not an ISO date or date-time with offset. */
export function validFromMs(text: string): number | null {
  return parse(text, false);
}

/** The first instant no longer in force, or null when the text is not a valid ISO date or date-time. */
export function validUntilMs(text: string): number | null {
  return parse(text, true);
}

/** Why a validity pair is unusable, or null. `what` names the columns in messages. */
export function validityProblem(from: string, until: string, what: { from: string; until: string } = { from: 'valid from', until: 'valid until' }): string | null {
  const f = validFromMs(from);
  if (f === null) return `${what.from} "${from}" is not an ISO date (2026-01-01) or date-time with offset (2026-01-01T08:00:00+08:00)`;
  const u = validUntilMs(until);
  if (u === null) return `${what.until} "${until}" is not an ISO date (2027-12-31) or date-time with offset (2027-12-31T18:00:00+08:00)`;
  if (u <= f) return `${what.until} ${until} is before ${what.from} ${from}`;
  return null;
}
