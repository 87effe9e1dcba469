import { parse, type DocumentNode } from 'graphql';
import { providerOf, readDeclarations, type Located } from '../../../common/declarations.ts';
import type { CatalogEntry } from '../../../ledger/events.ts';

/** One dataset as a supergraph declares it, with its catalog entry when the catalog is known. */
export interface DatasetShape {
  readonly id: string;
  readonly provider: string;
  readonly class: string;
  readonly sensitivity: string | null;
  readonly coordinates: readonly string[];
  readonly entry?: CatalogEntry;
}

/** The catalog entry's attributes a version records, each with the change kind that names it. */
export const ENTRY_ATTRIBUTES = {
  name: 'NAME_CHANGED',
  nameEn: 'NAME_EN_CHANGED',
  description: 'DESCRIPTION_CHANGED',
  format: 'FORMAT_CHANGED',
  frequency: 'FREQUENCY_CHANGED',
  conditions: 'CONDITIONS_CHANGED',
  purposes: 'PURPOSES_CHANGED',
} as const;
export type EntryAttribute = keyof typeof ENTRY_ATTRIBUTES;

export type ChangeKind = 'ADDED' | 'REMOVED' | 'CLASS_CHANGED' | 'SENSITIVITY_CHANGED' | 'FIELDS_CHANGED' | (typeof ENTRY_ATTRIBUTES)[EntryAttribute];

export interface DatasetChange {
  readonly dataset: string;
  readonly change: ChangeKind;
  readonly from: string | null;
  readonly to: string | null;
}

/** One composition that changed the catalog (R-6: the catalog follows the providers, versioned). */
export interface CatalogVersion {
  readonly version: number;
  readonly at: string;
  readonly changes: readonly DatasetChange[];
}

/** The datasets of a supergraph, each with its entry in `catalog` when one is given. */
export function datasetsOfSupergraph(sdl: string, catalog?: Readonly<Record<string, CatalogEntry>>): DatasetShape[] {
  return datasetsOf(readDeclarations(parse(sdl), 'supergraph').declarations, catalog);
}

/**
 * The datasets of a set of subgraphs (a registry version's, or a proposal's) with their entries:
 * the same shapes their supergraph would give, read from the subgraphs' SDL, so that they are
 * known even when the subgraphs do not compose. An SDL that does not parse declares nothing.
 */
export function datasetsOfSubgraphs(subgraphs: readonly { readonly name: string; readonly sdl: string }[], catalog?: Readonly<Record<string, CatalogEntry>>): DatasetShape[] {
  const declarations: Located[] = [];
  for (const s of subgraphs) {
    let doc: DocumentNode;
    try {
      doc = parse(s.sdl);
    } catch {
      continue;
    }
    declarations.push(...readDeclarations(doc, s.name).declarations);
  }
  return datasetsOf(declarations, catalog);
}

function datasetsOf(declarations: readonly Located[], catalog: Readonly<Record<string, CatalogEntry>> | undefined): DatasetShape[] {
  const byId = new Map<string, { id: string; provider: string; class: string; sensitivity: string | null; coordinates: string[] }>();
  for (const d of declarations) {
    const ds = byId.get(d.dataset) ?? { id: d.dataset, provider: providerOf(d.dataset), class: d.class, sensitivity: d.sensitivity, coordinates: [] };
    // One field declared by two subgraphs (R-8 refuses it) is still one field of the dataset.
    if (!ds.coordinates.includes(d.coordinate)) ds.coordinates.push(d.coordinate);
    byId.set(d.dataset, ds);
  }
  return [...byId.values()]
    .map((d) => {
      const entry = catalog?.[d.id];
      return { ...d, coordinates: d.coordinates.sort(), ...(entry !== undefined ? { entry } : {}) };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** An entry's attribute as a version records it: text as it is, purposes as one comma-separated list. */
export function entryValue(entry: CatalogEntry | undefined, attribute: EntryAttribute): string | null {
  if (entry === undefined) return null;
  const v = entry[attribute];
  return typeof v === 'string' ? v : v.join(', ');
}

/**
 * What changed, dataset by dataset, from one supergraph to the next: its class, sensitivity and
 * fields, and every attribute of its catalog entry when both sides carry one.
 */
export function diffCatalogs(before: readonly DatasetShape[], after: readonly DatasetShape[]): DatasetChange[] {
  const old = new Map(before.map((d) => [d.id, d]));
  const now = new Map(after.map((d) => [d.id, d]));
  const changes: DatasetChange[] = [];
  for (const d of after) {
    const o = old.get(d.id);
    if (o === undefined) changes.push({ dataset: d.id, change: 'ADDED', from: null, to: d.class });
    else {
      if (o.class !== d.class) changes.push({ dataset: d.id, change: 'CLASS_CHANGED', from: o.class, to: d.class });
      if (o.sensitivity !== d.sensitivity) changes.push({ dataset: d.id, change: 'SENSITIVITY_CHANGED', from: o.sensitivity, to: d.sensitivity });
      if (o.coordinates.join(',') !== d.coordinates.join(',')) changes.push({ dataset: d.id, change: 'FIELDS_CHANGED', from: o.coordinates.join(', '), to: d.coordinates.join(', ') });
      if (o.entry !== undefined && d.entry !== undefined) {
        for (const [attribute, change] of Object.entries(ENTRY_ATTRIBUTES) as [EntryAttribute, ChangeKind][]) {
          const from = entryValue(o.entry, attribute);
          const to = entryValue(d.entry, attribute);
          if (from !== to) changes.push({ dataset: d.id, change, from, to });
        }
      }
    }
  }
  for (const o of before) if (!now.has(o.id)) changes.push({ dataset: o.id, change: 'REMOVED', from: o.class, to: null });
  return changes;
}

/**
 * Classifications no composition may produce: sensitive data (commercial secret, personal,
 * state secret) is CONDITIONAL or NOT_SHARED, never open to every agency.
 */
export function classificationProblems(datasets: readonly DatasetShape[]): string[] {
  return datasets
    .filter((d) => d.sensitivity !== null && d.class !== 'CONDITIONAL' && d.class !== 'NOT_SHARED')
    .map((d) => `${d.id}: rule R-4 sensitive data stays conditional: a dataset with sensitivity ${d.sensitivity} must be CONDITIONAL or NOT_SHARED, not ${d.class}`);
}

/**
 * Changes that widen, narrow or break access and need the operator's `--accept`: any change
 * of sharing class, a sensitivity removed, or a dataset removed while grants still name it.
 */
export function changesNeedingAcceptance(changes: readonly DatasetChange[], grantedDatasets: ReadonlySet<string>): string[] {
  const warnings: string[] = [];
  for (const c of changes) {
    if (c.change === 'CLASS_CHANGED') {
      const why = c.to === 'UNCONDITIONAL' ? 'opens it to every agency without a grant' : c.to === 'NOT_SHARED' ? 'closes it to every consumer, grants included' : 'changes who may read it';
      warnings.push(`${c.dataset}: rule R-4 a class change needs --accept: ${c.from} → ${c.to} ${why}`);
    }
    if (c.change === 'SENSITIVITY_CHANGED' && c.to === null) {
      warnings.push(`${c.dataset}: rule R-4 removing a sensitivity needs --accept: ${c.from} → none drops the confidentiality agreement it requires (R-34)`);
    }
    if (c.change === 'REMOVED' && grantedDatasets.has(c.dataset)) {
      warnings.push(`${c.dataset}: removed while active grants name it`);
    }
  }
  return warnings;
}
