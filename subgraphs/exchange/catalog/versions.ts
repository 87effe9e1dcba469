import { readFileSync } from 'node:fs';
import metadata from '../../../schema/catalog/datasets.json' with { type: 'json' };
import type { CatalogEntry } from '../../../ledger/events.ts';
import type { PublishedVersion } from '../../../ledger/registry.ts';
import { FREQUENCIES, type Frequency } from './freshness.ts';
import { datasetsOfSupergraph, type DatasetShape } from './history.ts';

/** A catalog entry as the catalog serves it: the frequency one R-17 knows, the last update explicit. */
export interface Entry extends Omit<CatalogEntry, 'frequency' | 'lastUpdate'> {
  readonly frequency: Frequency;
  readonly lastUpdate: string | null;
}

/** The catalog at one version: its supergraph's datasets and their entries. */
export interface CatalogState {
  /** The published version; null for the reference catalog (SUPERGRAPH_PATH and schema/catalog/datasets.json). */
  readonly published: PublishedVersion | null;
  readonly shapes: readonly DatasetShape[];
  readonly byId: ReadonlyMap<string, DatasetShape>;
  /** Dataset id → entry, one for every dataset in `shapes`. */
  readonly entries: Readonly<Record<string, Entry>>;
}

/** What the catalog is made of when no version is published: a supergraph and the entries of its datasets. */
export interface CatalogSource {
  readonly supergraphSdl: string;
  readonly entries: Readonly<Record<string, CatalogEntry>>;
}

/** The reference catalog: the supergraph at SUPERGRAPH_PATH with schema/catalog/datasets.json. */
export function referenceCatalog(supergraphPath: string): CatalogSource {
  return { supergraphSdl: readFileSync(supergraphPath, 'utf8'), entries: metadata as unknown as Readonly<Record<string, CatalogEntry>> };
}

/**
 * The catalog as the published versions make it: the newest version's, the one in force at
 * an instant, and every dataset any version had. With no version published (a fresh exchange before
 * its seed) the reference catalog stands in. `published` is read on every call, so a version
 * published while the exchange runs is served from the next question on.
 */
export interface Catalogs {
  current(): CatalogState;
  /** The catalog in force at `time` (ms): the newest version published by then, else the reference. */
  at(time: number): CatalogState;
  /** The reference catalog, what the first published version (the seed) replaces. */
  reference(): CatalogState;
  /** The provider of a dataset in the current catalog or an earlier version's; null for one never catalogued. */
  providerOf(dataset: string): string | null;
  /** Every published version's catalog, oldest first. */
  versions(): readonly CatalogState[];
}

function entryOf(id: string, given: CatalogEntry | undefined, fallback: CatalogEntry | undefined): Entry {
  const e = given ?? fallback;
  // A version without an entry for one of its datasets still names it; the check of a proposal
  // asks for one, so this only covers versions published before it did.
  const frequency = (FREQUENCIES as readonly string[]).includes(e?.frequency ?? '') ? (e!.frequency as Frequency) : 'QUARTERLY';
  return {
    name: e?.name ?? id,
    nameEn: e?.nameEn ?? id,
    description: e?.description ?? '',
    format: e?.format ?? 'GraphQL / JSON',
    conditions: e?.conditions ?? '',
    purposes: e?.purposes ?? [],
    frequency,
    lastUpdate: e?.lastUpdate ?? null,
    ...(e?.provisionMethod !== undefined ? { provisionMethod: e.provisionMethod } : {}),
  };
}

function stateOf(source: CatalogSource, published: PublishedVersion | null, fallback: Readonly<Record<string, CatalogEntry>>): CatalogState {
  // The shapes carry the version's own entries, so that the history diffs every attribute.
  const shapes = datasetsOfSupergraph(source.supergraphSdl, source.entries);
  const entries = Object.fromEntries(shapes.map((d) => [d.id, entryOf(d.id, source.entries[d.id], fallback[d.id])]));
  return { published, shapes, byId: new Map(shapes.map((d) => [d.id, d])), entries };
}

export function catalogs(reference: CatalogSource, published: () => readonly PublishedVersion[]): Catalogs {
  const ref = stateOf(reference, null, {});
  const missing = ref.shapes.filter((d) => reference.entries[d.id] === undefined).map((d) => d.id);
  if (missing.length > 0) throw new Error(`schema/catalog/datasets.json has no entry for ${missing.join(', ')}`);
  // A version's catalog never changes: each is worked out once, keyed by the event that published it.
  const built = new Map<number, CatalogState>();
  const stateAt = (p: PublishedVersion): CatalogState => {
    let s = built.get(p.seq);
    if (s === undefined) {
      s = stateOf({ supergraphSdl: p.supergraphSdl, entries: p.catalog }, p, reference.entries);
      built.set(p.seq, s);
    }
    return s;
  };
  let providers: { count: number; map: Map<string, string> } = { count: -1, map: new Map() };
  const known = (): Map<string, string> => {
    const list = published();
    if (providers.count !== list.length) {
      const map = new Map<string, string>();
      for (const s of [ref, ...list.map(stateAt)]) for (const d of s.shapes) map.set(d.id, d.provider);
      providers = { count: list.length, map };
    }
    return providers.map;
  };
  return {
    current: () => {
      const last = published().at(-1);
      return last === undefined ? ref : stateAt(last);
    },
    at: (time) => {
      const list = published();
      for (let i = list.length - 1; i >= 0; i--) if (Date.parse(list[i]!.publishedAt) <= time) return stateAt(list[i]!);
      return ref;
    },
    reference: () => ref,
    providerOf: (dataset) => known().get(dataset) ?? null,
    versions: () => published().map(stateAt),
  };
}
