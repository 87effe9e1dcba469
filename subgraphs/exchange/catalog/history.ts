import { parse } from 'graphql';
import { providerOf, readDeclarations } from '../../../common/declarations.ts';

/** One dataset as a supergraph declares it. */
export interface DatasetShape {
  readonly id: string;
  readonly provider: string;
  readonly class: string;
  readonly sensitivity: string | null;
  readonly coordinates: readonly string[];
}

export type ChangeKind = 'ADDED' | 'REMOVED' | 'CLASS_CHANGED' | 'SENSITIVITY_CHANGED' | 'FIELDS_CHANGED';

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

export function datasetsOfSupergraph(sdl: string): DatasetShape[] {
  const { declarations } = readDeclarations(parse(sdl), 'supergraph');
  const byId = new Map<string, { id: string; provider: string; class: string; sensitivity: string | null; coordinates: string[] }>();
  for (const d of declarations) {
    const ds = byId.get(d.dataset) ?? { id: d.dataset, provider: providerOf(d.dataset), class: d.class, sensitivity: d.sensitivity, coordinates: [] };
    ds.coordinates.push(d.coordinate);
    byId.set(d.dataset, ds);
  }
  return [...byId.values()].map((d) => ({ ...d, coordinates: d.coordinates.sort() })).sort((a, b) => a.id.localeCompare(b.id));
}

/** What changed, dataset by dataset, from one supergraph to the next. */
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
