import { describe, expect, it } from 'vitest';
import { toPrune, type Kept } from '../../ledger/backup/retention.ts';

const a = (name: string, createdAt: string, verified = true): Kept => ({ name, createdAt, verified });

describe('backup retention', () => {
  it('keeps the newest archive of each of the last N days and M months, deleting the rest', () => {
    const archives = [
      a('jan', '2026-01-15T02:00:00Z'),
      a('feb', '2026-02-10T02:00:00Z'),
      a('mar-1', '2026-03-01T02:00:00Z'),
      a('mar-2a', '2026-03-02T02:00:00Z'),
      a('mar-2b', '2026-03-02T14:00:00Z'),
      a('mar-3', '2026-03-03T02:00:00Z'),
    ];
    expect(toPrune(archives, { daily: 2, monthly: 2 }).sort()).toEqual(['jan', 'mar-1', 'mar-2a']);
  });

  it('never deletes the only verified archive, and never deletes a damaged one', () => {
    const archives = [a('old-good', '2026-01-01T00:00:00Z'), a('new-bad', '2026-03-01T00:00:00Z', false)];
    expect(toPrune(archives, { daily: 1, monthly: 0 })).toEqual([]);
  });
});
