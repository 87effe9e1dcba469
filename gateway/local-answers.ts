import { createHash } from 'node:crypto';
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  OperationTypeNode,
  execute,
  Kind,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { isIntrospectionOnly } from './introspection.ts';
import { MAY_READ_FIELD, mayRead, type MayReadArgs } from './may-read.ts';
import { OVERSIGHT_FIELDS, oversightAnswers, type OversightAnswerOptions } from './oversight-answers.ts';
import type { Caller, Decision } from './sharing/types.ts';

type Result = Awaited<ReturnType<GatewayExecutor>>;

/** How one (trimmed) document is answered. */
type Route =
  | { readonly kind: 'federated' }
  /** Only `__schema` / `__type`: read from the public schema in the gateway. */
  | { readonly kind: 'introspection' }
  /** Root `mayRead` fields answered here, the rest (if any) planned and fetched as usual. */
  | { readonly kind: 'split'; readonly local: DocumentNode; readonly rest: { readonly document: DocumentNode; readonly operation: OperationDefinitionNode; readonly queryHash: string } | null; readonly order: readonly string[] };

export interface LocalAnswerOptions {
  /** `schema`: the one the request was validated against, so decisions are of its supergraph version. */
  readonly decide: (caller: Caller, coordinate: string, schema: GraphQLSchema) => Decision;
  /** The chain status, export and explain fields; absent, they are not answered locally. */
  readonly oversight?: Omit<OversightAnswerOptions, 'explain'> & {
    readonly explain: (caller: Caller, coordinate: string, schema: GraphQLSchema) => ReturnType<OversightAnswerOptions['explain']>;
  };
}

const LOCAL_FIELDS: ReadonlySet<string> = new Set([MAY_READ_FIELD, ...OVERSIGHT_FIELDS]);

/**
 * Wraps the federated executor with the answers the gateway gives itself, never sent to a
 * subgraph: introspection, read from the public schema with graphql-js (the federation executor
 * knows only an older introspection), and `Query.mayRead`, decided by the sharing policy. Sits
 * under the governed layer, so these fields are decided and audited like any other.
 */
export function localAnswers(inner: GatewayInterface, opts: LocalAnswerOptions): GatewayInterface {
  return {
    async load(options) {
      // Routes depend on the operation alone (not the schema); per operation, not per document:
      // one document may hold several, each routed on its own.
      const routes = new WeakMap<OperationDefinitionNode, Route>();
      const loaded = await inner.load(options);
      if (loaded.executor === null) return loaded;
      const federated = loaded.executor;
      return {
        executor: async (rc) => {
          // Introspection and local answers read the schema the request was validated against:
          // its supergraph version's, even when a newer one has loaded since.
          const schema = rc.schema;
          const op = rc.operation;
          let route = routes.get(op);
          if (route === undefined) {
            route = routeOf(rc.document, op);
            routes.set(op, route);
          }
          switch (route.kind) {
            case 'federated':
              return federated(rc);
            case 'introspection':
              return runLocal(schema, rc.document, rc, opts);
            case 'split':
              return runSplit(schema, route, federated, rc, opts);
          }
        },
      };
    },
    onSchemaLoadOrUpdate: (cb) => inner.onSchemaLoadOrUpdate(cb),
    stop: () => inner.stop(),
  };
}

function fragmentsOf(doc: DocumentNode): Map<string, FragmentDefinitionNode> {
  const m = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) m.set(d.name.value, d);
  return m;
}

/** The root selections with named fragments written inline, so root fields can be sorted. */
function inlineRoot(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen: ReadonlySet<string>): SelectionNode[] {
  return set.selections.flatMap((s): SelectionNode[] => {
    if (s.kind === Kind.FIELD) return [s];
    if (s.kind === Kind.INLINE_FRAGMENT) return [{ ...s, selectionSet: { ...s.selectionSet, selections: inlineRoot(s.selectionSet, fragments, seen) } }];
    const f = fragments.get(s.name.value);
    if (f === undefined || seen.has(s.name.value)) return [];
    const inner = new Set(seen).add(s.name.value);
    return [{ kind: Kind.INLINE_FRAGMENT, typeCondition: f.typeCondition, directives: s.directives ?? [], selectionSet: { kind: Kind.SELECTION_SET, selections: inlineRoot(f.selectionSet, fragments, inner) } }];
  });
}

/** Keeps the root fields `keep` accepts, dropping fragments left empty. */
function filterRoot(selections: readonly SelectionNode[], keep: (name: string) => boolean): SelectionNode[] {
  return selections.flatMap((s): SelectionNode[] => {
    if (s.kind === Kind.FIELD) return keep(s.name.value) ? [s] : [];
    if (s.kind === Kind.INLINE_FRAGMENT) {
      const inner = filterRoot(s.selectionSet.selections, keep);
      return inner.length === 0 ? [] : [{ ...s, selectionSet: { ...s.selectionSet, selections: inner } }];
    }
    return [s];
  });
}

function responseKeys(selections: readonly SelectionNode[], out: string[]): string[] {
  for (const s of selections) {
    if (s.kind === Kind.FIELD) {
      const key = s.alias?.value ?? s.name.value;
      if (!out.includes(key)) out.push(key);
    } else if (s.kind === Kind.INLINE_FRAGMENT) responseKeys(s.selectionSet.selections, out);
  }
  return out;
}

/** A document with one operation and only the fragments and variables it still uses (it is validated again). */
function documentOf(op: OperationDefinitionNode, selections: SelectionNode[], fragments: ReadonlyMap<string, FragmentDefinitionNode>): { document: DocumentNode; operation: OperationDefinitionNode } {
  const used = new Set<string>();
  const variables = new Set<string>();
  const collect = (node: SelectionSetNode | FragmentDefinitionNode): void => {
    visit(node, {
      FragmentSpread(n) {
        if (used.has(n.name.value)) return;
        used.add(n.name.value);
        const f = fragments.get(n.name.value);
        if (f !== undefined) collect(f);
      },
      Variable(n) {
        variables.add(n.name.value);
      },
    });
  };
  const selectionSet: SelectionSetNode = { kind: Kind.SELECTION_SET, selections };
  collect(selectionSet);
  for (const d of op.directives ?? []) visit(d, { Variable: (n) => void variables.add(n.name.value) });
  const operation: OperationDefinitionNode = { ...op, selectionSet, variableDefinitions: (op.variableDefinitions ?? []).filter((v) => variables.has(v.variable.name.value)) };
  const definitions: DefinitionNode[] = [operation, ...[...fragments.values()].filter((f) => used.has(f.name.value))];
  return { document: { kind: Kind.DOCUMENT, definitions }, operation };
}

function routeOf(doc: DocumentNode, op: OperationDefinitionNode): Route {
  if (isIntrospectionOnly(doc, op)) return { kind: 'introspection' };
  if (op.operation !== OperationTypeNode.QUERY) return { kind: 'federated' };
  const fragments = fragmentsOf(doc);
  const root = inlineRoot(op.selectionSet, fragments, new Set());
  const isLocal = (name: string): boolean => LOCAL_FIELDS.has(name);
  const local = filterRoot(root, (n) => isLocal(n) || n === '__typename');
  if (![...LOCAL_FIELDS].some((f) => hasField(local, f))) return { kind: 'federated' };
  const restSelections = filterRoot(root, (n) => !isLocal(n));
  const order = responseKeys(root, []);
  const localDoc = documentOf(op, local, fragments).document;
  if (!hasDataField(restSelections)) return { kind: 'split', local: localDoc, rest: null, order };
  const rest = documentOf(op, restSelections, fragments);
  return { kind: 'split', local: localDoc, rest: { ...rest, queryHash: createHash('sha256').update(print(rest.document)).digest('hex') }, order };
}

function hasField(selections: readonly SelectionNode[], name: string): boolean {
  return selections.some((s) => (s.kind === Kind.FIELD ? s.name.value === name : s.kind === Kind.INLINE_FRAGMENT && hasField(s.selectionSet.selections, name)));
}

function hasDataField(selections: readonly SelectionNode[]): boolean {
  return selections.some((s) => (s.kind === Kind.FIELD ? s.name.value !== '__typename' : s.kind === Kind.INLINE_FRAGMENT ? hasDataField(s.selectionSet.selections) : true));
}

interface LocalContext {
  readonly caller: Caller;
}

async function runLocal(schema: GraphQLSchema, document: DocumentNode, rc: GatewayGraphQLRequestContext, opts: LocalAnswerOptions): Promise<Result> {
  const caller = (rc.context as LocalContext).caller;
  const oversight = opts.oversight;
  const rootValue = {
    [MAY_READ_FIELD]: (args: MayReadArgs) => mayRead(schema, (c, coordinate) => opts.decide(c, coordinate, schema), caller, args),
    ...(oversight === undefined ? {} : oversightAnswers(schema, caller, { ...oversight, explain: (c, coordinate) => oversight.explain(c, coordinate, schema) })),
  };
  return execute({ schema, document, rootValue, contextValue: rc.context, variableValues: rc.request.variables ?? {}, operationName: rc.request.operationName ?? null });
}

async function runSplit(schema: GraphQLSchema, route: Extract<Route, { kind: 'split' }>, federated: GatewayExecutor, rc: GatewayGraphQLRequestContext, opts: LocalAnswerOptions): Promise<Result> {
  const local = await runLocal(schema, route.local, rc, opts);
  // A bad argument of a local field refuses the whole request before anything is fetched, as for any field.
  const bad = local.errors?.filter((e) => e.extensions['code'] === 'BAD_USER_INPUT') ?? [];
  if (bad.length > 0) {
    if (rc.response?.http !== undefined) rc.response.http.status = 400;
    return { errors: bad };
  }
  if (route.rest === null) return local;
  const rest = await federated({ ...rc, document: route.rest.document, operation: route.rest.operation, queryHash: route.rest.queryHash });
  const errors = [...(local.errors ?? []), ...(rest.errors ?? [])];
  const extensions = rest.extensions;
  if (rest.data === null || rest.data === undefined || local.data === null || local.data === undefined) {
    return { data: null, ...(errors.length > 0 ? { errors } : {}), ...(extensions !== undefined ? { extensions } : {}) };
  }
  const data: Record<string, unknown> = {};
  const l = local.data as Record<string, unknown>;
  const r = rest.data;
  for (const key of route.order) {
    if (Object.hasOwn(l, key)) data[key] = l[key];
    else if (Object.hasOwn(r, key)) data[key] = r[key];
  }
  return { data, ...(errors.length > 0 ? { errors } : {}), ...(extensions !== undefined ? { extensions } : {}) };
}
