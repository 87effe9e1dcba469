import metadata from '../schema/catalog/datasets.json' with { type: 'json' };

/**
 * The purposes a dataset's catalog entry lists (R-13, R-24): a grant, a policy line or a sharing
 * request for any other purpose is refused. Null for a dataset the catalog metadata does not know
 * (a supergraph not written for the reference exchange), which binds nothing.
 */
export function cataloguedPurposes(dataset: string): readonly string[] | null {
  const entry = (metadata as Record<string, { purposes?: readonly string[] } | undefined>)[dataset];
  return entry?.purposes ?? null;
}

/** The purposes among `purposes` that the dataset's catalog entry does not list; [] when all are listed. */
export function uncataloguedPurposes(dataset: string, purposes: readonly string[]): string[] {
  const listed = cataloguedPurposes(dataset);
  if (listed === null) return [];
  return purposes.filter((p) => !listed.includes(p));
}

/** Why a request or grant for these datasets and purposes must be refused (R-13, R-24), or null. */
export function purposeProblem(datasets: readonly string[], purposes: readonly string[]): string | null {
  for (const d of datasets) {
    const off = uncataloguedPurposes(d, purposes);
    if (off.length > 0) return `purpose ${off.map((p) => `"${p}"`).join(', ')} is not catalogued for ${d} (catalogued: ${cataloguedPurposes(d)?.join(', ') || 'none'}) (R-13, R-24)`;
  }
  return null;
}
