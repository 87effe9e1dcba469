import { describe, expect, it } from 'vitest';
import { freshness, type Frequency, type Freshness } from '../../subgraphs/exchange/catalog/freshness.ts';

const t = (iso: string): number => Date.parse(iso);

describe('update freshness (R-17)', () => {
  it.each<[Frequency, string, string, Freshness, string]>([
    // frequency, last update, now, expected
    
    ['QUARTERLY', '2026-07-06T10:00:00+08:00', '2026-10-10T23:59:00+08:00', 'FRESH', 'old quarter\u2019s update still counts through 10 October'],
    ['QUARTERLY', '2026-07-06T10:00:00+08:00', '2026-10-11T00:00:00+08:00', 'OVERDUE', 'not updated by the 10th day of the quarter\u2019s first month'],
    ['QUARTERLY', '2026-09-30T23:00:00+08:00', '2026-10-11T00:00:00+08:00', 'OVERDUE', 'an update in the last quarter does not count after 10 October'],
    ['QUARTERLY', '2026-10-01T00:00:00+08:00', '2026-12-31T23:00:00+08:00', 'FRESH', 'one update early in the quarter lasts the quarter'],
    ['QUARTERLY', '2026-10-01T00:00:00+08:00', '2027-01-10T12:00:00+08:00', 'FRESH', 'across the year end, before 10 January'],
    ['QUARTERLY', '2026-10-01T00:00:00+08:00', '2027-01-11T00:00:01+08:00', 'OVERDUE', 'across the year end, after 10 January'],
    ['DAILY', '2026-11-23T18:00:00+08:00', '2026-11-25T17:00:00+08:00', 'FRESH', 'within two days'],
    ['DAILY', '2026-11-23T18:00:00+08:00', '2026-11-25T19:00:00+08:00', 'OVERDUE', 'more than two days'],
    ['WEEKLY', '2026-11-16T10:00:00+08:00', '2026-11-24T09:00:00+08:00', 'FRESH', 'within eight days'],
    ['MONTHLY', '2026-09-12T10:00:00+08:00', '2026-11-24T10:00:00+08:00', 'OVERDUE', 'two months old'],
    ['QUARTERLY', '2026-10-09T10:00:00+08:00', '2026-10-10T23:59:00+08:00', 'FRESH', 'updated in the new quarter'],
  ])('%s updated %s, at %s: %s (%s)', (frequency, last, now, expected) => {
    expect(freshness(frequency, t(last), t(now))).toBe(expected);
  });

  it('is NEVER_REPORTED without an update', () => {
    expect(freshness('DAILY', null, Date.now())).toBe('NEVER_REPORTED');
  });
});
