/** An agency's records keyed by USCC or ID number; `getMany` is one data access for a batch. */
export interface EntityTable<T> {
  readonly size: number;
  get(key: string): T | undefined;
  getMany(keys: readonly string[]): (T | undefined)[];
  keys(): string[];
}

export function entityTable<T>(rows: Iterable<readonly [string, T]>): EntityTable<T> {
  const map = new Map<string, T>(rows);
  return {
    size: map.size,
    get: (key) => map.get(key),
    getMany: (keys) => keys.map((k) => map.get(k)),
    keys: () => [...map.keys()],
  };
}
