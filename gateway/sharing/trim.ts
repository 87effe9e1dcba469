import {
  getNamedType,
  GraphQLError,
  isAbstractType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Decision } from './types.ts';

/** Decides one field; the caller binds the caller identity and the clock. */
export type FieldDecider = (parentTypeName: string, fieldName: string) => Decision;

/** Response keys the trimmer adds for its own use; fillResult removes them. */
export const HIDDEN_PREFIX = '__x_';
const TYPENAME_KEY = `${HIDDEN_PREFIX}t`;

/**
 * How a value is nested: `[Enterprise!]!` is { nonNull: true, list: { nonNull: true, list: null } }.
 * Needed to propagate a denied non-null field's null exactly as GraphQL execution would.
 */
export interface TypeShape {
  readonly nonNull: boolean;
  readonly list: TypeShape | null;
}

/** One field of a selection set, precompiled for fillResult. */
export interface FieldStep {
  readonly responseKey: string;
  readonly coordinate: string;
  /** Concrete types this step applies to (from enclosing type conditions); null = all. */
  readonly onlyFor: ReadonlySet<string> | null;
  readonly decision: Decision | null;
  readonly denied: boolean;
  /** Audited: a data field (not a key field, not __typename). */
  readonly recorded: boolean;
  readonly shape: TypeShape;
  readonly child: SelectionPlan | null;
  /** Response-key path from the root, without list indices: the error path when no instance exists. */
  readonly staticPath: readonly string[];
}

/** A selection set, precompiled: the steps in the client's order, and how to find entity keys. */
export interface SelectionPlan {
  /** The concrete type when the parent is an object type; null when abstract (read typenameKey). */
  readonly concreteType: string | null;
  readonly typenameKey: string | null;
  readonly steps: readonly FieldStep[];
  /** Per concrete entity type: the response keys holding its key field values. */
  readonly keyKeys: ReadonlyMap<string, readonly string[]>;
  /** Rebuild objects in the client's key order: something is denied or hidden here. */
  readonly rebuild: boolean;
}

export interface FillPlan {
  readonly root: SelectionPlan;
  readonly deniedSteps: readonly FieldStep[];
}

export interface TrimResult {
  readonly document: DocumentNode;
  readonly plan: FillPlan;
  readonly denied: readonly { readonly coordinate: string; readonly decision: Decision }[];
  readonly allowed: readonly { readonly coordinate: string; readonly decision: Decision }[];
}

function shapeOf(type: GraphQLOutputType): TypeShape {
  if (isNonNullType(type)) return { ...shapeOf(type.ofType), nonNull: true };
  if (isListType(type)) return { nonNull: false, list: shapeOf(type.ofType) };
  return { nonNull: false, list: null };
}

function field(alias: string | null, name: string): FieldNode {
  return {
    kind: Kind.FIELD,
    ...(alias !== null ? { alias: { kind: Kind.NAME, value: alias } } : {}),
    name: { kind: Kind.NAME, value: name },
  };
}

function possibleTypes(schema: GraphQLSchema, type: GraphQLCompositeType): readonly string[] {
  return isAbstractType(type) ? schema.getPossibleTypes(type).map((t) => t.name) : [type.name];
}

/**
 * Removes every field the caller may not read from the operation, before the query planner sees
 * it, and precompiles the plan fillResult uses to put nulls and errors where they were. Fragment
 * spreads are inlined so that a fragment used in two places is decided in each. When nothing is
 * denied and nothing hidden is needed, the same document object comes back.
 */
export function trimOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null,
  decide: FieldDecider,
  keyFields: ReadonlyMap<string, readonly string[]>,
): TrimResult {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION && (operationName === null || def.name?.value === operationName)) operation ??= def;
  }
  if (operation === undefined) throw new GraphQLError(`Unknown operation "${operationName ?? ''}"`);
  const rootType = schema.getRootType(operation.operation);
  if (rootType === undefined || rootType === null) throw new GraphQLError(`The schema has no ${operation.operation} type`);

  const memo = new Map<string, Decision>();
  const decideOnce = (type: string, name: string): Decision => {
    const key = `${type}.${name}`;
    let d = memo.get(key);
    if (d === undefined) {
      d = decide(type, name);
      memo.set(key, d);
    }
    return d;
  };
  // A field on an interface is read only if every implementation may be read (most restrictive).
  const decideOn = (parent: GraphQLCompositeType, name: string): Decision => {
    let allow: Decision | null = null;
    for (const t of possibleTypes(schema, parent)) {
      const d = decideOnce(t, name);
      if (d.effect === 'DENY') return d;
      allow ??= d;
    }
    return allow ?? decideOnce(parent.name, name);
  };

  const denied = new Map<string, Decision>();
  const allowed = new Map<string, Decision>();
  const deniedSteps: FieldStep[] = [];
  let changed = false;

  const compileSet = (set: SelectionSetNode, parent: GraphQLCompositeType, path: readonly string[]): { node: SelectionSetNode; plan: SelectionPlan } => {
    const steps: FieldStep[] = [];
    const out: SelectionNode[] = [];
    const abstract = isAbstractType(parent);
    let rebuild = false;
    let needsKeys = false;
    const userKeys = new Set<string>();

    // `scope` is the type fields are looked up and decided on: the parent, or the type condition
    // of the fragment they sit in (a field inside `... on Company` is Company's, not the union's).
    const collect = (selections: readonly SelectionNode[], onlyFor: ReadonlySet<string> | null, into: SelectionNode[], visiting: ReadonlySet<string>, scope: GraphQLCompositeType): void => {
      for (const sel of selections) {
        if (sel.kind === Kind.FRAGMENT_SPREAD || sel.kind === Kind.INLINE_FRAGMENT) {
          let inner: readonly SelectionNode[];
          let condition: string | undefined;
          if (sel.kind === Kind.FRAGMENT_SPREAD) {
            const frag = fragments.get(sel.name.value);
            if (frag === undefined || visiting.has(sel.name.value)) continue;
            inner = frag.selectionSet.selections;
            condition = frag.typeCondition.name.value;
            changed = true; // spreads are inlined in the trimmed document
          } else {
            inner = sel.selectionSet.selections;
            condition = sel.typeCondition?.name.value;
          }
          const condType = condition === undefined ? scope : (schema.getType(condition) as GraphQLCompositeType | undefined) ?? scope;
          const applies = new Set(possibleTypes(schema, condType));
          const narrowed = onlyFor === null ? (condition === undefined ? null : applies) : new Set([...onlyFor].filter((t) => applies.has(t)));
          const nested: SelectionNode[] = [];
          collect(inner, narrowed, nested, sel.kind === Kind.FRAGMENT_SPREAD ? new Set([...visiting, sel.name.value]) : visiting, condType);
          if (nested.length > 0) {
            into.push({
              kind: Kind.INLINE_FRAGMENT,
              ...(condition !== undefined ? { typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: condition } } } : {}),
              ...(sel.directives && sel.directives.length > 0 ? { directives: sel.directives } : {}),
              selectionSet: { kind: Kind.SELECTION_SET, selections: nested },
            });
          } else changed = true;
          continue;
        }
        const name = sel.name.value;
        const responseKey = sel.alias?.value ?? name;
        if (name === '__typename' || name === '__schema' || name === '__type') {
          into.push(sel);
          continue;
        }
        const fieldDef = 'getFields' in scope ? (scope as { getFields(): Record<string, { type: GraphQLOutputType }> }).getFields()[name] : undefined;
        // Validation has run, so every field exists; anything else is our bug, and fails closed.
        if (fieldDef === undefined) throw new Error(`invariant: ${scope.name}.${name} not in the schema after validation`);
        const decision = decideOn(scope, name);
        const coordinate = `${scope.name}.${name}`;
        const stepPath = [...path, responseKey];
        const isDenied = decision.effect === 'DENY';
        let child: SelectionPlan | null = null;
        if (isDenied) {
          changed = true;
          rebuild = true;
          needsKeys = true; // the audit names the entities a denial was about

          if (!denied.has(coordinate)) denied.set(coordinate, decision);
        } else {
          if (decision.reason === 'KEY_FIELD' && sel.alias === undefined && onlyFor === null) userKeys.add(name);
          else needsKeys = true;
          if (decision.reason !== 'KEY_FIELD' && !allowed.has(coordinate)) allowed.set(coordinate, decision);
          const named = getNamedType(fieldDef.type);
          if (sel.selectionSet !== undefined && isCompositeType(named)) {
            const compiled = compileSet(sel.selectionSet, named, stepPath);
            child = compiled.plan;
            into.push(compiled.node === sel.selectionSet ? sel : { ...sel, selectionSet: compiled.node });
          } else into.push(sel);
        }
        const step: FieldStep = {
          responseKey,
          coordinate,
          onlyFor,
          decision,
          denied: isDenied,
          recorded: decision.reason !== 'KEY_FIELD',
          shape: shapeOf(fieldDef.type),
          child,
          staticPath: stepPath,
        };
        steps.push(step);
        if (isDenied) deniedSteps.push(step);
      }
    };
    collect(set.selections, null, out, new Set(), parent);

    // Entity keys for the audit: the key values must come back even when the client did not ask.
    const keyKeys = new Map<string, string[]>();
    const hidden: SelectionNode[] = [];
    if (needsKeys || abstract) {
      for (const typeName of possibleTypes(schema, parent)) {
        const keys = keyFields.get(typeName);
        if (keys === undefined) continue;
        const responseKeys: string[] = [];
        const add: FieldNode[] = [];
        for (const k of keys) {
          if (userKeys.has(k)) responseKeys.push(k);
          else {
            responseKeys.push(`${HIDDEN_PREFIX}k_${k}`);
            add.push(field(`${HIDDEN_PREFIX}k_${k}`, k));
          }
        }
        keyKeys.set(typeName, responseKeys);
        if (add.length === 0) continue;
        hidden.push(abstract ? { kind: Kind.INLINE_FRAGMENT, typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: typeName } }, selectionSet: { kind: Kind.SELECTION_SET, selections: add } } : add[0]!);
        if (!abstract) hidden.push(...add.slice(1));
      }
    }
    const typenameKey = abstract ? TYPENAME_KEY : null;
    if (abstract) hidden.push(field(TYPENAME_KEY, '__typename'));
    if (out.length === 0 && hidden.length === 0) hidden.push(field(TYPENAME_KEY, '__typename'));
    if (hidden.length > 0) {
      changed = true;
      rebuild = true;
    }
    const unchanged = hidden.length === 0 && out.length === set.selections.length && out.every((s, i) => s === set.selections[i]);
    const node: SelectionSetNode = unchanged ? set : { kind: Kind.SELECTION_SET, selections: [...out, ...hidden] };
    return { node, plan: { concreteType: abstract ? null : parent.name, typenameKey, steps, keyKeys, rebuild } };
  };

  const root = compileSet(operation.selectionSet, rootType, []);
  const plan: FillPlan = { root: root.plan, deniedSteps };
  const summary = {
    denied: [...denied].map(([coordinate, decision]) => ({ coordinate, decision })),
    allowed: [...allowed].map(([coordinate, decision]) => ({ coordinate, decision })),
  };
  if (!changed) return { document, plan, ...summary };

  // Only the chosen operation goes to the planner; variables its trimmed form no longer uses go too.
  const trimmedOp: OperationDefinitionNode = { ...operation, selectionSet: root.node };
  const used = new Set<string>();
  visit(trimmedOp.selectionSet, { Variable: (v) => void used.add(v.name.value) });
  for (const d of trimmedOp.directives ?? []) visit(d, { Variable: (v) => void used.add(v.name.value) });
  const finalOp: OperationDefinitionNode = { ...trimmedOp, variableDefinitions: (operation.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value)) };
  return { document: { kind: Kind.DOCUMENT, definitions: [finalOp] }, plan, ...summary };
}
