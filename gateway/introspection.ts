import { Kind, OperationTypeNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { checkLimits, type OperationLimits } from './limits.ts';

/**
 * Introspection has its own bounded shape (docs/developers.md): deep enough for graphql-js
 * getIntrospectionQuery() with every option (depth 15, from the nested `ofType` of its TypeRef),
 * GraphiQL, IDE plugins and codegen, whatever the depth limit of data queries; bounded instead by
 * how many list fields nest on one path, since only lists make an introspection answer grow.
 */
export const INTROSPECTION_LIMITS: OperationLimits = Object.freeze({ maxDepth: 20, maxFieldsPerSelection: 200, maxAliases: 5 });

/** The standard query nests three lists on a path (types > fields > args); a fourth only repeats the schema. */
export const MAX_NESTED_INTROSPECTION_LISTS = 3;

const LIST_FIELDS = new Set(['types', 'fields', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues', 'args', 'directives']);

function fragmentsOf(doc: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return fragments;
}

/** Root fields of a selection, through inline fragments and spreads. */
function rootFieldNames(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen: Set<string>, out: string[]): string[] {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s.name.value);
    else if (s.kind === Kind.INLINE_FRAGMENT) rootFieldNames(s.selectionSet, fragments, seen, out);
    else if (!seen.has(s.name.value)) {
      seen.add(s.name.value);
      const f = fragments.get(s.name.value);
      if (f !== undefined) rootFieldNames(f.selectionSet, fragments, seen, out);
    }
  }
  return out;
}

/** A query selecting only `__schema` / `__type` (and `__typename`): it reads the schema, no agency's data. */
export function isIntrospectionOnly(doc: DocumentNode, op: OperationDefinitionNode): boolean {
  if (op.operation !== OperationTypeNode.QUERY) return false;
  const names = rootFieldNames(op.selectionSet, fragmentsOf(doc), new Set(), []);
  return names.some((n) => n === '__schema' || n === '__type') && names.every((n) => n === '__schema' || n === '__type' || n === '__typename');
}

/** The first bound an introspection operation exceeds, as a message naming it, or null. */
export function introspectionShapeProblem(doc: DocumentNode, op: OperationDefinitionNode): string | null {
  const limit = checkLimits(doc, op, INTROSPECTION_LIMITS);
  if (limit !== null) return `${limit} (the limit for introspection)`;
  const fragments = fragmentsOf(doc);
  let deepest = 0;
  const walk = (set: SelectionSetNode, lists: number, visiting: Set<string>): void => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        const here = lists + (LIST_FIELDS.has(s.name.value) ? 1 : 0);
        deepest = Math.max(deepest, here);
        if (s.selectionSet !== undefined && here <= MAX_NESTED_INTROSPECTION_LISTS) walk(s.selectionSet, here, visiting);
      } else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, lists, visiting);
      else {
        const f = fragments.get(s.name.value);
        if (f === undefined || visiting.has(s.name.value)) continue;
        visiting.add(s.name.value);
        walk(f.selectionSet, lists, visiting);
        visiting.delete(s.name.value);
      }
    }
  };
  walk(op.selectionSet, 0, new Set());
  return deepest > MAX_NESTED_INTROSPECTION_LISTS
    ? `introspection nests ${deepest} lists (types, fields, args, ...) on one path, over the limit of ${MAX_NESTED_INTROSPECTION_LISTS}`
    : null;
}
