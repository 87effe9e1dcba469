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
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Decision } from './types.ts';

/** Decides one field; the caller binds the caller identity and the clock. */
export type FieldDecider = (parentTypeName: string, fieldName: string) => Decision;

/**
 * The one response key the trimmer may add, and only when something is denied in a fragment on an
 * abstract type (or every field of a selection set is denied): fillResult needs the concrete type
 * there to put the nulls where they belong. It never reaches the client. Keys for the audit are
 * never added: they come from what the client selected, the arguments and the plan's own fetches.
 */
export const HIDDEN_TYPENAME = '__x_t';
const TYPENAME_KEY = HIDDEN_TYPENAME;

/** Scalars whose argument values are entity keys the audit records (docs/audit.md). */
const KEY_SCALARS: ReadonlySet<string> = new Set(['USCC', 'IDNumber']);

/**
 * How a value is nested: `[Enterprise!]!` is { nonNull: true, list: { nonNull: true, list: null } }.
 * Needed to propagate a denied non-null field's null exactly as GraphQL execution would.
 */
export interface TypeShape {
  readonly nonNull: boolean;
  readonly list: TypeShape | null;
}

/** An argument value naming entity keys: a literal, or a variable read per request. */
export type KeyArgument = { readonly literal: string } | { readonly variable: string };

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
  /** Entity keys this field's arguments name (`uscc: $u`, `uscc: [..]`, `idNumber: "..."`). */
  readonly keyArguments: readonly KeyArgument[];
  /** Key arguments of this field and every field above it: what a denial never reached was about. */
  readonly scopeKeyArguments: readonly KeyArgument[];
  /** Concrete types the field is read on: where to look for entity keys the plan fetched. */
  readonly entityTypes: readonly string[];
}

/** A selection set, precompiled: the steps in the client's order, and how to find entity keys. */
export interface SelectionPlan {
  /** The concrete type when the parent is an object type; null when abstract (read typenameKey). */
  readonly concreteType: string | null;
  /** Where the concrete type of an abstract value is, when known: the client's own __typename or the hidden one. */
  readonly typenameKey: string | null;
  readonly steps: readonly FieldStep[];
  /** Per concrete entity type: the response keys holding its key field values, when the client selected them all. */
  readonly keyKeys: ReadonlyMap<string, readonly string[]>;
  /** Rebuild objects in the client's key order: something is denied or hidden here. */
  readonly rebuild: boolean;
}

export interface FillPlan {
  readonly root: SelectionPlan;
  readonly deniedSteps: readonly FieldStep[];
  /** Every recorded step, for the audit of a request whose execution produced no data. */
  readonly recordedSteps: readonly FieldStep[];
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

/** Literal strings and numbers, and variables, of a key argument value; lists are flattened. */
function keyValues(value: ValueNode, into: KeyArgument[]): void {
  switch (value.kind) {
    case Kind.STRING:
    case Kind.INT:
      into.push({ literal: value.value });
      return;
    case Kind.VARIABLE:
      into.push({ variable: value.name.value });
      return;
    case Kind.LIST:
      for (const v of value.values) keyValues(v, into);
      return;
    case Kind.BOOLEAN:
    case Kind.ENUM:
    case Kind.FLOAT:
    case Kind.NULL:
    case Kind.OBJECT:
      return; // not a key value
  }
}

/**
 * An argument names entity keys when its type is one of the exchange's key scalars, or when it is
 * the single key field of the entity the field returns (`product(upc: "1")` on `@key(fields: "upc")`).
 */
function isKeyArgument(arg: GraphQLArgument, returnTypes: readonly string[], keySets: KeySets): boolean {
  if (KEY_SCALARS.has(getNamedType(arg.type).name)) return true;
  return returnTypes.some((t) => keySets.get(t)?.some((set) => set.length === 1 && set[0] === arg.name) === true);
}

/** Per entity type, each of its keys as a set of field names (Catalog.keySets). */
export type KeySets = ReadonlyMap<string, readonly (readonly string[])[]>;

/** The types a value of these concrete types may be fetched as: themselves and their interfaces (interface objects). */
function withInterfaces(schema: GraphQLSchema, types: readonly string[]): string[] {
  const out = new Set(types);
  for (const t of types) {
    const type = schema.getType(t);
    if (type !== undefined && 'getInterfaces' in type) for (const i of type.getInterfaces()) out.add(i.name);
  }
  return [...out];
}

/**
 * Removes every field the caller may not read from the operation, before the query planner sees
 * it, and precompiles the plan fillResult uses to put nulls and errors where they were. When
 * nothing is denied the very same document object comes back, so the planner sees exactly what a
 * bare gateway would; otherwise fragment spreads are inlined so that a fragment used in two places
 * is decided in each.
 */
export function trimOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null,
  decide: FieldDecider,
  keySets: KeySets,
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
  const recordedSteps: FieldStep[] = [];
  let changed = false;

  const compileSet = (
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
    path: readonly string[],
    scopeKeyArguments: readonly KeyArgument[],
  ): { node: SelectionSetNode; plan: SelectionPlan } => {
    const steps: FieldStep[] = [];
    const out: SelectionNode[] = [];
    const abstract = isAbstractType(parent);
    let rebuild = false;
    let typedDenial = false;
    let clientTypename: string | null = null;
    // Key fields the client selected here, by field name: the response key and where it applies.
    const selectedKeys = new Map<string, { responseKey: string; onlyFor: ReadonlySet<string> | null }[]>();

    // `scope` is the type fields are looked up and decided on: the parent, or the type condition
    // of the fragment they sit in (a field inside `... on Company` is Company's, not the union's).
    // `conditional`: under @skip/@include, so the value may be absent from the response.
    const collect = (
      selections: readonly SelectionNode[],
      onlyFor: ReadonlySet<string> | null,
      into: SelectionNode[],
      visiting: ReadonlySet<string>,
      scope: GraphQLCompositeType,
      conditional: boolean,
    ): void => {
      for (const sel of selections) {
        if (sel.kind === Kind.FRAGMENT_SPREAD || sel.kind === Kind.INLINE_FRAGMENT) {
          let inner: readonly SelectionNode[];
          let condition: string | undefined;
          if (sel.kind === Kind.FRAGMENT_SPREAD) {
            const frag = fragments.get(sel.name.value);
            if (frag === undefined || visiting.has(sel.name.value)) continue;
            inner = frag.selectionSet.selections;
            condition = frag.typeCondition.name.value;
          } else {
            inner = sel.selectionSet.selections;
            condition = sel.typeCondition?.name.value;
          }
          const condType = condition === undefined ? scope : (schema.getType(condition) as GraphQLCompositeType | undefined) ?? scope;
          const applies = new Set(possibleTypes(schema, condType));
          const narrowed = onlyFor === null ? (condition === undefined ? null : applies) : new Set([...onlyFor].filter((t) => applies.has(t)));
          const nested: SelectionNode[] = [];
          const directed = conditional || (sel.directives !== undefined && sel.directives.length > 0);
          collect(inner, narrowed, nested, sel.kind === Kind.FRAGMENT_SPREAD ? new Set([...visiting, sel.name.value]) : visiting, condType, directed);
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
        const fieldConditional = conditional || (sel.directives !== undefined && sel.directives.length > 0);
        if (name === '__typename' || name === '__schema' || name === '__type') {
          if (name === '__typename' && onlyFor === null && !fieldConditional) clientTypename ??= responseKey;
          into.push(sel);
          continue;
        }
        const fieldDef = 'getFields' in scope ? (scope as { getFields(): Record<string, { type: GraphQLOutputType; args: readonly GraphQLArgument[] }> }).getFields()[name] : undefined;
        // Validation has run, so every field exists; anything else is our bug, and fails closed.
        if (fieldDef === undefined) throw new Error(`invariant: ${scope.name}.${name} not in the schema after validation`);
        const decision = decideOn(scope, name);
        const coordinate = `${scope.name}.${name}`;
        const stepPath = [...path, responseKey];
        const isDenied = decision.effect === 'DENY';
        const named = getNamedType(fieldDef.type);
        // On a root field the entities are what it returns; elsewhere, the object the field is on.
        const entityTypes = withInterfaces(schema, scope === rootType ? (isCompositeType(named) ? possibleTypes(schema, named) : []) : onlyFor === null ? possibleTypes(schema, scope) : [...onlyFor]);
        for (const t of entityTypes) {
          if (keySets.get(t)?.some((set) => set.includes(name)) !== true) continue;
          const list = selectedKeys.get(name) ?? [];
          if (!list.some((k) => k.responseKey === responseKey)) list.push({ responseKey, onlyFor });
          selectedKeys.set(name, list);
          break;
        }
        const keyArguments: KeyArgument[] = [];
        if (sel.arguments !== undefined && sel.arguments.length > 0) {
          const returnTypes = isCompositeType(named) ? possibleTypes(schema, named) : [];
          for (const a of sel.arguments) {
            const def = fieldDef.args.find((d) => d.name === a.name.value);
            if (def !== undefined && isKeyArgument(def, returnTypes, keySets)) keyValues(a.value, keyArguments);
          }
        }
        const stepScopeKeys = keyArguments.length === 0 ? scopeKeyArguments : [...scopeKeyArguments, ...keyArguments];
        let child: SelectionPlan | null = null;
        if (isDenied) {
          changed = true;
          rebuild = true;
          if (onlyFor !== null && abstract) typedDenial = true;
          if (!denied.has(coordinate)) denied.set(coordinate, decision);
        } else {
          if (decision.reason !== 'KEY_FIELD' && !allowed.has(coordinate)) allowed.set(coordinate, decision);
          if (sel.selectionSet !== undefined && isCompositeType(named)) {
            const compiled = compileSet(sel.selectionSet, named, stepPath, stepScopeKeys);
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
          keyArguments,
          scopeKeyArguments: stepScopeKeys,
          entityTypes,
        };
        steps.push(step);
        if (isDenied) deniedSteps.push(step);
        if (step.recorded) recordedSteps.push(step);
      }
    };
    collect(set.selections, null, out, new Set(), parent, false);

    // Entity keys for the audit, where the client selected every field of one of a type's keys.
    const keyKeys = new Map<string, string[]>();
    for (const typeName of possibleTypes(schema, parent)) {
      for (const keys of keySets.get(typeName) ?? []) {
        const responseKeys: string[] = [];
        for (const k of keys) {
          const hit = selectedKeys.get(k)?.find((s) => s.onlyFor === null || s.onlyFor.has(typeName));
          if (hit === undefined) break;
          responseKeys.push(hit.responseKey);
        }
        if (responseKeys.length > 0 && responseKeys.length === keys.length) {
          keyKeys.set(typeName, responseKeys);
          break;
        }
      }
    }
    // The concrete type of an abstract value is needed only to place a denial made in a fragment;
    // a set left empty by denials needs one field for the planner. Both only when something is denied.
    let typenameKey: string | null = abstract ? clientTypename : null;
    const hidden: SelectionNode[] = [];
    if ((abstract && typedDenial && clientTypename === null) || out.length === 0) {
      hidden.push(field(TYPENAME_KEY, '__typename'));
      if (abstract && clientTypename === null) typenameKey = TYPENAME_KEY;
      changed = true;
      rebuild = true;
    }
    const unchanged = hidden.length === 0 && out.length === set.selections.length && out.every((s, i) => s === set.selections[i]);
    const node: SelectionSetNode = unchanged ? set : { kind: Kind.SELECTION_SET, selections: [...out, ...hidden] };
    return { node, plan: { concreteType: abstract ? null : parent.name, typenameKey, steps, keyKeys, rebuild } };
  };

  const root = compileSet(operation.selectionSet, rootType, [], []);
  const plan: FillPlan = { root: root.plan, deniedSteps, recordedSteps };
  const summary = {
    denied: [...denied].map(([coordinate, decision]) => ({ coordinate, decision })),
    allowed: [...allowed].map(([coordinate, decision]) => ({ coordinate, decision })),
  };
  // Nothing denied: the planner gets the client's own document, fragments and all.
  if (!changed) return { document, plan, ...summary };

  // Only the chosen operation goes to the planner; variables its trimmed form no longer uses go too.
  const trimmedOp: OperationDefinitionNode = { ...operation, selectionSet: root.node };
  const used = new Set<string>();
  visit(trimmedOp.selectionSet, { Variable: (v) => void used.add(v.name.value) });
  for (const d of trimmedOp.directives ?? []) visit(d, { Variable: (v) => void used.add(v.name.value) });
  const finalOp: OperationDefinitionNode = { ...trimmedOp, variableDefinitions: (operation.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value)) };
  return { document: { kind: Kind.DOCUMENT, definitions: [finalOp] }, plan, ...summary };
}
