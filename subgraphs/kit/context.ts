import DataLoader from 'dataloader';
import type { ForwardedIdentity } from '../../common/trust.ts';
import type { EntityTable } from './table.ts';

/** What every subgraph resolver sees: the caller the gateway vouched for, and batched loaders. */
export interface SubgraphContext {
  readonly caller: ForwardedIdentity;
  /** Data accesses made by this request (one per batch), reported in the x-data-accesses header. */
  dataAccesses: number;
  /** One DataLoader per table per request: all keys asked in one tick become one getMany. */
  load<T>(table: EntityTable<T>, key: string): Promise<T | undefined>;
}

export function subgraphContext(caller: ForwardedIdentity): SubgraphContext {
  const loaders = new Map<EntityTable<unknown>, DataLoader<string, unknown>>();
  const ctx: SubgraphContext = {
    caller,
    dataAccesses: 0,
    load<T>(table: EntityTable<T>, key: string): Promise<T | undefined> {
      let loader = loaders.get(table) as DataLoader<string, T | undefined> | undefined;
      if (loader === undefined) {
        loader = new DataLoader<string, T | undefined>(async (keys) => {
          ctx.dataAccesses++;
          return table.getMany(keys);
        }, { cache: true });
        loaders.set(table, loader);
      }
      return loader.load(key);
    },
  };
  return ctx;
}
