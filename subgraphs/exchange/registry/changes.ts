import { Kind, parse } from 'graphql';
import { readDeclarations } from '../../../common/declarations.ts';

/** One field coordinate that a version added, removed or classified differently than the version before. */
export interface SchemaChange {
  readonly coordinate: string;
  readonly change: 'ADDED' | 'REMOVED' | 'RECLASSED';
  /** The field's dataset and class before ("tax.credit-rating CONDITIONAL COMMERCIAL", or "not catalogued"); null when added. */
  readonly before: string | null;
  readonly after: string | null;
}

const UNCATALOGUED = 'not catalogued';

/** Every field coordinate of a supergraph with its classification (dataset, class, sensitivity). */
export function classifiedFields(supergraphSdl: string): Map<string, string> {
  const doc = parse(supergraphSdl);
  const fields = new Map<string, string>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const f of def.fields ?? []) fields.set(`${def.name.value}.${f.name.value}`, UNCATALOGUED);
  }
  for (const d of readDeclarations(doc, 'supergraph').declarations) {
    fields.set(d.coordinate, [d.dataset, d.class, ...(d.sensitivity === null ? [] : [d.sensitivity])].join(' '));
  }
  return fields;
}

/**
 * What a version changed against the one before it, coordinate by coordinate: fields added,
 * removed, or moved to another dataset, class or sensitivity (what grants and readers depend on).
 * Sorted by coordinate.
 */
export function schemaChanges(beforeSdl: string, afterSdl: string): SchemaChange[] {
  const before = classifiedFields(beforeSdl);
  const after = classifiedFields(afterSdl);
  const changes: SchemaChange[] = [];
  for (const [coordinate, now] of after) {
    const was = before.get(coordinate);
    if (was === undefined) changes.push({ coordinate, change: 'ADDED', before: null, after: now });
    else if (was !== now) changes.push({ coordinate, change: 'RECLASSED', before: was, after: now });
  }
  for (const [coordinate, was] of before) if (!after.has(coordinate)) changes.push({ coordinate, change: 'REMOVED', before: was, after: null });
  return changes.sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}
