import { Kind, parse, type DocumentNode, type ValueNode } from 'graphql';
import { providerOf, readDeclarations } from '../../common/declarations.ts';
import { cataloguedPurposes, type CataloguedEntries } from '../../common/catalogued-purposes.ts';
import type { Catalog, Dataset } from './types.ts';

export const SHARING_SPEC_URL = 'https://exchange.gd.gov.cn/sharing/v1.0';

/** The name `@dataset` has in this supergraph (a `@link` import may rename it). */
function datasetDirectiveName(doc: DocumentNode): string {
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'link') continue;
      const url = d.arguments?.find((a) => a.name.value === 'url')?.value;
      if (url?.kind !== Kind.STRING || !url.value.startsWith(SHARING_SPEC_URL)) continue;
      const imports = d.arguments?.find((a) => a.name.value === 'import')?.value;
      for (const imp of imports?.kind === Kind.LIST ? imports.values : []) {
        const renamed = importAlias(imp);
        if (renamed !== null) return renamed;
      }
    }
  }
  return 'dataset';
}

function importAlias(v: ValueNode): string | null {
  if (v.kind !== Kind.OBJECT) return null;
  const name = v.fields.find((f) => f.name.value === 'name')?.value;
  const as = v.fields.find((f) => f.name.value === 'as')?.value;
  if (name?.kind === Kind.STRING && name.value === '@dataset' && as?.kind === Kind.STRING) return as.value.replace(/^@/, '');
  return null;
}

/**
 * Entity keys from `@join__type(key: "...")`, only flat field sets: every key field of each type,
 * and each alternative key as its own set (a type with `@key(fields: "id")` and
 * `@key(fields: "upc")` is identified by either).
 */
function readKeyFields(doc: DocumentNode): { keys: Map<string, string[]>; keySets: Map<string, string[][]> } {
  const keys = new Map<string, string[]>();
  const keySets = new Map<string, string[][]>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'join__type') continue;
      const key = d.arguments?.find((a) => a.name.value === 'key')?.value;
      if (key?.kind !== Kind.STRING || key.value.includes('{')) continue;
      const fields = key.value.split(/[\s,]+/).filter((f) => f !== '');
      const known = keys.get(def.name.value) ?? [];
      for (const f of fields) if (!known.includes(f)) known.push(f);
      keys.set(def.name.value, known);
      const sets = keySets.get(def.name.value) ?? [];
      if (!sets.some((set) => set.join(' ') === fields.join(' '))) sets.push(fields);
      keySets.set(def.name.value, sets);
    }
  }
  return { keys, keySets };
}

/**
 * The catalog as the supergraph declares it (`@dataset` kept by `@composeDirective`): which
 * dataset each field belongs to, with its provider, class and sensitivity.
 */
export function readCatalog(supergraphSdl: string, entries?: CataloguedEntries): Catalog {
  const doc = parse(supergraphSdl);
  const { declarations, problems } = readDeclarations(doc, 'supergraph', datasetDirectiveName(doc));
  if (problems.length > 0) throw new Error(`supergraph catalog is invalid: ${problems.join('; ')}`);
  const byId = new Map<string, { id: string; provider: string; class: Dataset['class']; sensitivity: Dataset['sensitivity']; coordinates: string[] }>();
  const byCoordinate = new Map<string, Dataset>();
  for (const d of declarations) {
    let ds = byId.get(d.dataset);
    if (ds === undefined) {
      ds = { id: d.dataset, provider: providerOf(d.dataset), class: d.class, sensitivity: d.sensitivity, coordinates: [] };
      byId.set(d.dataset, ds);
    } else if (ds.class !== d.class || ds.sensitivity !== d.sensitivity) {
      throw new Error(`supergraph catalog is invalid: dataset ${d.dataset} has two classes (${ds.class}, ${d.class})`);
    }
    ds.coordinates.push(d.coordinate);
  }
  const datasets = new Map<string, Dataset>();
  for (const [id, ds] of byId) {
    const frozen: Dataset = Object.freeze({ ...ds, coordinates: Object.freeze(ds.coordinates) });
    datasets.set(id, frozen);
    for (const c of ds.coordinates) byCoordinate.set(c, frozen);
  }
  const { keys, keySets } = readKeyFields(doc);
  return Object.freeze({ datasets, byCoordinate, keyFields: keys, keySets, ...(entries === undefined ? {} : { entries }) });
}

/** Whether two catalogs say the same about every field: a new supergraph version often changes no dataset. */
export function sameCatalog(a: Catalog, b: Catalog): boolean {
  if (a === b) return true;
  if (a.datasets.size !== b.datasets.size || a.keySets.size !== b.keySets.size) return false;
  for (const [id, d] of a.datasets) {
    const e = b.datasets.get(id);
    if (e === undefined || e.class !== d.class || e.sensitivity !== d.sensitivity || e.coordinates.join('\n') !== d.coordinates.join('\n')) return false;
  }
  for (const [type, sets] of a.keySets) {
    const other = b.keySets.get(type);
    if (other === undefined || JSON.stringify(other) !== JSON.stringify(sets)) return false;
  }
  for (const [type, keys] of a.keyFields) if (b.keyFields.get(type)?.join(' ') !== keys.join(' ')) return false;
  // Grant lines are checked against the purposes the entries list: other purposes, another policy.
  const purposes = (c: Catalog, id: string): string | null => cataloguedPurposes(id, c.entries)?.join('\n') ?? null;
  for (const id of a.datasets.keys()) if (purposes(a, id) !== purposes(b, id)) return false;
  return true;
}
