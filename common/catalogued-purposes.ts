import metadata from '../schema/catalog/datasets.json' with { type: 'json' };

/**
 * The purposes a dataset's catalog entry lists: a grant, a policy line or a sharing
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
