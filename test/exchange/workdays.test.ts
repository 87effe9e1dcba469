import { describe, expect, it } from 'vitest';
import { addWorkingDays, CALENDARS, isOverdue, isWorkingDay, workingDaysLeft } from '../../subgraphs/exchange/workdays.ts';

// Received at 10:00 China Standard Time on the given day.
const at = (date: string, time = '10:00'): Date => new Date(`${date}T${time}:00+08:00`);

describe('working days on the official calendar', () => {
  it.each([
    ['2026-10-01', false, 'National Day'],
    ['2026-10-10', true, 'a make-up Saturday'],
    ['2026-09-20', true, 'a make-up Sunday'],
    ['2026-02-14', true, 'a Spring Festival make-up Saturday'],
    ['2026-02-18', false, 'Spring Festival'],
    ['2026-03-07', false, 'an ordinary Saturday'],
    ['2026-03-09', true, 'an ordinary Monday'],
  ])('%s is a working day: %s (%s)', (date, working) => {
    expect(isWorkingDay(date)).toEqual({ working, provisional: false });
  });

  it.each([
    // received, due by: 15 working days after the day of receipt
    ['2026-09-28', '2026-10-23', 'over National Day: the 10-1..10-7 holiday skipped, the 10-10 make-up Saturday counted'],
    ['2026-02-09', '2026-03-06', 'over Spring Festival: 2-15..2-23 skipped, the 2-14 and 2-28 make-up Saturdays counted'],
    ['2026-10-03', '2026-10-27', 'received on a holiday: counting starts the next working day'],
    ['2026-03-07', '2026-03-27', 'received on a Saturday'],
    ['2026-04-01', '2026-04-23', 'over Qingming (4-4..4-6)'],
  ])('received %s is due by %s (%s)', (received, dueBy) => {
    const d = addWorkingDays(at(received), 15);
    expect(d.dueBy).toBe(dueBy);
    expect(d.provisional).toBe(false);
    expect(d.dueAt.toISOString()).toBe(new Date(`${dueBy}T23:59:59.999+08:00`).toISOString());
  });

  it('a deadline crossing into 2027 skips its statutory New Year day and is provisional until the official notice', () => {
    const d = addWorkingDays(at('2026-12-21'), 15);
    // 12-22..12-31: 8 working days in 2026; 1-1-2027 (a Friday) is the statutory 元旦; then 1-4..1-12.
    expect(d).toMatchObject({ dueBy: '2027-01-12', provisional: true });
    expect(isWorkingDay('2027-10-01')).toEqual({ working: false, provisional: true });
    expect(isWorkingDay('2027-10-04')).toEqual({ working: true, provisional: true });
  });

  it('a deadline crossing into a year without a calendar file counts weekends only and is provisional', () => {
    const d = addWorkingDays(at('2027-12-20'), 15);
    // 12-21..12-31: 9 working days in 2027; then 6 weekdays of 2028 (1-1 is a Saturday; no file, nothing else off).
    expect(d).toMatchObject({ dueBy: '2028-01-10', provisional: true });
  });

  it('counts the days left, today included while it is a working day, and 0 once past due', () => {
    expect(workingDaysLeft(at('2026-10-20'), '2026-10-22')).toBe(3);
    expect(workingDaysLeft(at('2026-10-22', '23:59'), '2026-10-22')).toBe(1);
    expect(workingDaysLeft(at('2026-10-23', '00:00'), '2026-10-22')).toBe(0);
  });

  it('is overdue only after the end of the due day, China Standard Time', () => {
    const { dueAt } = addWorkingDays(at('2026-09-28'), 15);
    expect(isOverdue(new Date('2026-10-23T15:59:59.000Z'), dueAt)).toBe(false);
    expect(isOverdue(new Date('2026-10-23T16:00:00.000Z'), dueAt)).toBe(true);
  });

  it('every calendar file is sane: dates in its year, make-up days on weekends, no day both', () => {
    for (const c of CALENDARS) {
      // The official notice, or (provisional until it is published) the statutory days of the holiday regulation.
      expect(c.source).toMatch(c.provisional === undefined ? /国办发明电/ : /国务院令第795号/);
      const holidays = c.holidays.flatMap((h) => h.dates);
      expect(new Set(holidays).size).toBe(holidays.length);
      for (const d of holidays) expect(d.startsWith(`${c.year}-`)).toBe(true);
      for (const m of c.makeupWorkdays) {
        expect(m.date.startsWith(`${c.year}-`)).toBe(true);
        expect([0, 6]).toContain(new Date(`${m.date}T00:00:00Z`).getUTCDay());
        expect(holidays).not.toContain(m.date);
      }
    }
  });
});
