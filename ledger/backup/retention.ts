/** One archive as retention sees it. */
export interface Kept {
  readonly name: string;
  /** ISO time the archive was made. */
  readonly createdAt: string;
  /** It passed verification (a damaged archive never counts as a kept backup). */
  readonly verified: boolean;
  /** The archive an increment adds to (its name), or null for a full archive. */
  readonly parent?: string | null;
}

export interface RetentionRule {
  /** The newest verified archive of each of the last N days that have one. */
  readonly daily: number;
  /** The newest verified archive of each of the last M months that have one. */
  readonly monthly: number;
}

/**
 * Which archives to delete: verified archives that are neither the newest of one of the last
 * `daily` days nor of one of the last `monthly` months. Damaged archives are never deleted here
 * (they are evidence, and `list` shows them), and the newest verified archive is always kept, so
 * pruning can never delete the only verified copy. An archive kept keeps every archive it adds to
 * (its base and earlier increments): a restore of it needs them all.
 */
export function toPrune(archives: readonly Kept[], rule: RetentionRule): string[] {
  const verified = archives.filter((a) => a.verified).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const keep = new Set<string>();
  if (verified[0] !== undefined) keep.add(verified[0].name);
  const newestPer = (bucket: (iso: string) => string, n: number): void => {
    const seen = new Set<string>();
    for (const a of verified) {
      const b = bucket(a.createdAt);
      if (seen.has(b)) continue;
      if (seen.size >= n) break;
      seen.add(b);
      keep.add(a.name);
    }
  };
  newestPer((iso) => iso.slice(0, 10), rule.daily);
  newestPer((iso) => iso.slice(0, 7), rule.monthly);
  const parentOf = new Map(archives.map((a) => [a.name, a.parent ?? null]));
  for (const name of [...keep]) {
    for (let p = parentOf.get(name) ?? null; p !== null && !keep.has(p); p = parentOf.get(p) ?? null) keep.add(p);
  }
  return verified.filter((a) => !keep.has(a.name)).map((a) => a.name);
}
