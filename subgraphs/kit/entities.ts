import type { SubgraphContext } from './context.ts';
import type { EntityTable } from './table.ts';

/**
 * `__resolveReference` over one agency table: every representation the gateway sends in one
 * `_entities` request joins the same DataLoader batch, so the batch is one `getMany`.
 * An entity the agency holds nothing on resolves to null (its fields come back null).
 */
export function referenceResolver<T extends object, K extends string>(table: EntityTable<T>, key: K) {
  return async (ref: Record<K, string>, ctx: SubgraphContext): Promise<(T & Record<K, string>) | null> => {
    const row = await ctx.load(table, ref[key]);
    return row === undefined ? null : { ...row, [key]: ref[key] } as T & Record<K, string>;
  };
}

/** Resolver for a field with a `year` argument stored as a per-year record. */
export function byYear<T, V>(pick: (row: T) => Readonly<Record<number, V>> | undefined) {
  return (row: T, args: { year: number }): V | null => pick(row)?.[args.year] ?? null;
}
