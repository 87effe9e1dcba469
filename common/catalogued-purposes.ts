import metadata from '../schema/catalog/datasets.json' with { type: 'json' };

/**
 * The catalog entries a check reads purposes from: dataset id → entry. The catalog follows the
 * published supergraph versions, so each caller passes the entries of the version it serves; the
 * reference entries (schema/catalog/datasets.json) stand in where none is given.
 */
export type CataloguedEntries = Readonly<Record<string, { readonly purposes?: readonly string[] } | undefined>>;

export const REFERENCE_ENTRIES: CataloguedEntries = metadata;

/**
 * The purposes a dataset's catalog entry lists (R-13, R-24): a grant, a policy line or a sharing
 * request for any other purpose is refused. Null for a dataset the catalog does not know (a
 * supergraph not written for the reference exchange), which binds nothing.
 */
export function cataloguedPurposes(dataset: string, entries: CataloguedEntries = REFERENCE_ENTRIES): readonly string[] | null {
  return entries[dataset]?.purposes ?? null;
}

/** The purposes among `purposes` that the dataset's catalog entry does not list; [] when all are listed. */
export function uncataloguedPurposes(dataset: string, purposes: readonly string[], entries: CataloguedEntries = REFERENCE_ENTRIES): string[] {
  const listed = cataloguedPurposes(dataset, entries);
  if (listed === null) return [];
  return purposes.filter((p) => !listed.includes(p));
}

/** Why a request or grant for these datasets and purposes must be refused (R-13, R-24), or null. */
export function purposeProblem(datasets: readonly string[], purposes: readonly string[], entries: CataloguedEntries = REFERENCE_ENTRIES): string | null {
  for (const d of datasets) {
    const off = uncataloguedPurposes(d, purposes, entries);
    if (off.length > 0) return `purpose ${off.map((p) => `"${p}"`).join(', ')} is not catalogued for ${d} (catalogued: ${cataloguedPurposes(d, entries)?.join(', ') || 'none'}) (R-13, R-24)`;
  }
  return null;
}
