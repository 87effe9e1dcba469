import { bad } from './scope.ts';

export interface Page<T> {
  readonly items: readonly T[];
  readonly totalCount: number;
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
}

const cursor = (n: number): string => Buffer.from(`o:${n}`).toString('base64url');

function offsetOf(after: string | null | undefined): number {
  if (after === null || after === undefined) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
  if (m === null) throw bad('after', 'after is not a cursor this listing gave out');
  return Number(m[1]);
}

/** One page of an ordered list: `first` between 1 and 1000, `after` a cursor from the previous page. */
export function page<T>(all: readonly T[], first: number | null | undefined, after: string | null | undefined): Page<T> {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw bad('first', `first must be between 1 and 1000, got ${n}`);
  const from = offsetOf(after);
  const items = all.slice(from, from + n);
  return { items, totalCount: all.length, next: from + n < all.length ? cursor(from + n) : null };
}
