import { buildOperationContext, type ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { OperationContext } from '@apollo/gateway/dist/operationContext.js';
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { generateHydratedPaths } from '@apollo/gateway/dist/executeQueryPlan.js';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import { deepMerge } from '@apollo/gateway/dist/utilities/deepMerge.js';
import { assert, ERRORS, errorCodeDef, operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import { evaluateCondition, getResponseName, type FetchNode, type PlanNode, type QueryPlan, type QueryPlanSelectionNode, type QueryPlanner } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { executeSync, getVariableValues, GraphQLError, Kind, OperationTypeNode, TypeNameMetaFieldDef, visit, type DocumentNode, type FieldNode, type GraphQLFormattedError, type GraphQLSchema, type VariableDefinitionNode } from 'graphql';

/**
 * The gateway's query-plan executor. Apollo's query planner makes the plan; this runs it the way
 * @apollo/gateway's `executeQueryPlan` does (same fetches, same entity representations, same merge,
 * same error paths, and Apollo's own `computeResponse` for result shaping, null propagation and
 * @inaccessible removal), without the per-request work that depends only on the document: the
 * operation context, the federation operation used to shape the result and the plan are built
 * once per document and schema, and no tracing spans or trace nodes are made.
 */

type ResultMap = Record<string, unknown>;
type Path = (string | number)[];
interface Cursor {
  readonly path: Path;
  readonly data: ResultMap | ResultMap[];
  readonly fullResult: ResultMap;
}

/** What ApolloGateway holds after loading a supergraph; read, never changed. */
interface LoadedGateway {
  readonly schema?: GraphQLSchema;
  readonly apiSchema?: Schema;
  readonly supergraphSchema?: GraphQLSchema;
  readonly queryPlanner?: QueryPlanner;
  readonly serviceMap: Record<string, { readonly dataSource: GraphQLDataSource }>;
  readonly recursiveSelectionsLimitDisabled?: boolean;
  readonly nonLocalSelectionsLimitDisabled?: boolean;
}

/** Everything about one operation of one document that does not change between requests. */
interface Prepared {
  readonly schema: GraphQLSchema;
  readonly operationContext: OperationContext;
  /** The federation operation results are shaped by, or why it could not be built. */
  readonly operation: Operation | GraphQLError;
  /** Built on first use after the variables were accepted, as ApolloGateway plans; a failure is not kept. */
  plan: QueryPlan | null;
}

interface Planned extends Prepared {
  readonly operation: Operation;
  readonly plan: QueryPlan;
}

interface ExecutionContext {
  readonly prepared: Planned;
  readonly supergraphSchema: GraphQLSchema;
  readonly serviceMap: Record<string, GraphQLDataSource>;
  readonly requestContext: GatewayGraphQLRequestContext;
  readonly errors: GraphQLError[];
}

/**
 * Wraps a loaded ApolloGateway so that its executor is this one; schema loading, data sources
 * and the query planner stay Apollo's.
 */
export function planExecutingGateway(gateway: ApolloGateway): GatewayInterface {
  const loaded = gateway as unknown as LoadedGateway;
  const prepared = new WeakMap<DocumentNode, Map<string, Prepared>>();
  let serviceMap: Record<string, GraphQLDataSource> | null = null;
  return {
    async load(options) {
      const result = await gateway.load(options);
      if (result.executor === null) return result;
      const executor: GatewayExecutor = async (rc) => {
        const { schema, apiSchema, supergraphSchema, queryPlanner } = loaded;
        if (schema === undefined || apiSchema === undefined || supergraphSchema === undefined || queryPlanner === undefined) throw new Error('gateway executor called before the schema loaded');
        const operationName = rc.request.operationName;
        let byName = prepared.get(rc.document);
        let entry = byName?.get(operationName ?? '');
        if (entry === undefined || entry.schema !== schema) {
          entry = prepare(schema, apiSchema, rc.document, operationName);
          if (byName === undefined) {
            byName = new Map();
            prepared.set(rc.document, byName);
          }
          byName.set(operationName ?? '', entry);
          serviceMap = null;
        }
        const definitions = entry.operationContext.operation.variableDefinitions;
        if (definitions !== undefined) {
          const { errors } = getVariableValues(entry.schema, definitions, rc.request.variables ?? {});
          if (errors !== undefined) return { errors };
        }
        entry.plan ??= planner(loaded, queryPlanner, apiSchema, rc.document, operationName);
        if (entry.operation instanceof GraphQLError) return { errors: [entry.operation] };
        serviceMap ??= dataSources(loaded);
        return executePlan({ prepared: entry as Planned, supergraphSchema, serviceMap, requestContext: rc, errors: [] });
      };
      return { executor };
    },
    onSchemaLoadOrUpdate: (cb) => gateway.onSchemaLoadOrUpdate(cb),
    stop: () => gateway.stop(),
  };
}

function dataSources(loaded: LoadedGateway): Record<string, GraphQLDataSource> {
  const map: Record<string, GraphQLDataSource> = Object.create(null) as Record<string, GraphQLDataSource>;
  for (const [name, { dataSource }] of Object.entries(loaded.serviceMap)) map[name] = dataSource;
  return map;
}

function prepare(schema: GraphQLSchema, apiSchema: Schema, document: DocumentNode, operationName: string | undefined): Prepared {
  const operationContext = buildOperationContext({ schema, operationDocument: document, ...(operationName !== undefined ? { operationName } : {}) });
  // As executeQueryPlan shapes results: from the operation and its fragments, unvalidated.
  let operation: Operation | GraphQLError;
  try {
    operation = operationFromDocument(apiSchema, { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] }, { validate: false });
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    operation = err;
  }
  return { schema, operationContext, operation, plan: null };
}

/** As ApolloGateway plans: from the whole document, limits as configured. */
function planner(loaded: LoadedGateway, queryPlanner: QueryPlanner, apiSchema: Schema, document: DocumentNode, operationName: string | undefined): QueryPlan {
  return queryPlanner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }), {
    recursiveSelectionsLimitDisabled: loaded.recursiveSelectionsLimitDisabled ?? false,
    nonLocalSelectionsLimitDisabled: loaded.nonLocalSelectionsLimitDisabled ?? false,
  });
}

async function executePlan(context: ExecutionContext): Promise<GatewayExecutionResult> {
  const { prepared, requestContext, errors } = context;
  const unfilteredData: ResultMap = Object.create(null) as ResultMap;
  const node = prepared.plan.node;
  if (node?.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
  if (node !== undefined) await executeNode(context, node, { path: [], data: unfilteredData, fullResult: unfilteredData });
  const variables = requestContext.request.variables;
  let data: Record<string, unknown> | null | undefined;
  try {
    let postProcessingErrors: GraphQLError[];
    ({ data, errors: postProcessingErrors } = computeResponse({
      operation: prepared.operation,
      variables,
      input: unfilteredData,
      introspectionHandling: (f) => executeIntrospection(prepared.operationContext.schema, f.expandFragments().toSelectionNode(), prepared.operationContext.operation.variableDefinitions, variables),
    }));
    if (errors.length === 0 && postProcessingErrors.length > 0) {
      // Apollo reports value-completion problems as an extension, in the same shape.
      return { extensions: { valueCompletion: postProcessingErrors }, data };
    }
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
    (requestContext.logger ?? console).error(`Unexpected error during query plan execution: ${String(error)}`);
    return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
  }
  return errors.length === 0 ? { data } : { errors, data };
}

async function executeNode(context: ExecutionContext, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (cursor === undefined) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(context, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(context, child, cursor)));
      return;
    case 'Flatten':
      await executeNode(context, node.node, moveIntoCursor(cursor, node.path));
      return;
    case 'Fetch':
      try {
        await executeFetch(context, node, cursor);
      } catch (error) {
        context.errors.push(error as GraphQLError);
      }
      return;
    case 'Condition': {
      const picked = evaluateCondition(node, context.prepared.operation.variableDefinitions, context.requestContext.request.variables) ? node.ifClause : node.elseClause;
      if (picked !== undefined) await executeNode(context, picked, cursor);
      return;
    }
    case 'Defer':
      assert(false, '@defer support is not available in the gateway');
      return;
  }
}

const isNotNullOrUndefined = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;
const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

async function executeFetch(context: ExecutionContext, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const service = context.serviceMap[fetch.serviceName];
  if (service === undefined) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities: ResultMap[] = Array.isArray(cursor.data) ? cursor.data.filter(isNotNullOrUndefined) : [cursor.data];
  if (entities.length < 1) return;
  const variables: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const provided = context.requestContext.request.variables;
  if (fetch.variableUsages !== undefined && provided !== undefined) {
    for (const name of fetch.variableUsages) {
      if (hasOwn(provided, name) && typeof provided[name] !== 'undefined') variables[name] = provided[name];
    }
  }
  if (fetch.requires === undefined) {
    const received = await sendOperation(context, fetch, cursor, service, variables);
    if (received) applyRewrites(context.supergraphSchema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }
  const requires = fetch.requires;
  const representations: ResultMap[] = [];
  const representationToEntity: number[] = [];
  entities.forEach((entity, index) => {
    const representation = executeSelectionSet(context.supergraphSchema, entity, requires);
    if (representation?.[TypeNameMetaFieldDef.name]) {
      applyRewrites(context.supergraphSchema, fetch.inputRewrites, representation);
      representations.push(representation);
      representationToEntity.push(index);
    }
  });
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
  const received = await sendOperation(context, fetch, cursor, service, { ...variables, representations });
  if (!received) return;
  const receivedEntities = received['_entities'];
  if (!(receivedEntities && Array.isArray(receivedEntities))) throw new Error('Expected "data._entities" in response to be an array');
  if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  // Apollo walks `entities.length` here, not `representations.length`; so does this, for the same results.
  for (let i = 0; i < entities.length; i++) {
    const receivedEntity = receivedEntities[i] as ResultMap | null | undefined;
    const existingEntity = entities[representationToEntity[i]!];
    if (receivedEntity && !receivedEntity['__typename']) receivedEntity['__typename'] = existingEntity?.['__typename'];
    applyRewrites(context.supergraphSchema, fetch.outputRewrites, receivedEntity as ResultMap);
    deepMerge(entities[representationToEntity[i]!], receivedEntity);
  }
}

async function sendOperation(context: ExecutionContext, fetch: FetchNode, cursor: Cursor, service: GraphQLDataSource, variables: Record<string, unknown>): Promise<ResultMap | null | undefined> {
  const rc = context.requestContext;
  const response = await service.process({
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: { query: fetch.operation, variables, operationName: fetch.operationName },
    incomingRequestContext: rc,
    context: rc.context,
    document: fetch.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  });
  if (response.errors) {
    const errorPath = lazyErrorPath(fetch, cursor);
    context.errors.push(...response.errors.map((error) => downstreamServiceError(error, fetch.serviceName, errorPath)));
    if (!response.extensions?.['ftv1']) {
      const paths = response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path }));
      const metrics = rc.metrics as { nonFtv1ErrorPaths?: { subgraph: string; path: unknown }[] };
      if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...paths);
      else metrics.nonFtv1ErrorPaths = paths;
    }
  }
  return response.data;
}

function lazyErrorPath(fetch: FetchNode, cursor: Cursor): (errorPath: readonly (string | number)[] | undefined) => Path | undefined {
  let hydrated: Path[] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (hydrated === undefined) {
        hydrated = [];
        generateHydratedPaths([], cursor.path, cursor.fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath.slice()] : undefined;
  };
}

function executeSelectionSet(schema: GraphQLSchema, source: ResultMap | null, selections: readonly QueryPlanSelectionNode[]): ResultMap | null {
  if (source === null) return null;
  const result: ResultMap = Object.create(null) as ResultMap;
  for (const selection of selections) {
    switch (selection.kind) {
      case 'Field': {
        const responseName = getResponseName(selection);
        const subSelections = selection.selections;
        const value = source[responseName];
        if (!hasOwn(source, responseName) || typeof value === 'undefined') return null;
        if (Array.isArray(value)) result[responseName] = value.map((v: ResultMap | null) => (subSelections ? executeSelectionSet(schema, v, subSelections) : v));
        else if (subSelections) result[responseName] = executeSelectionSet(schema, value as ResultMap | null, subSelections);
        else result[responseName] = value;
        break;
      }
      case 'InlineFragment':
        if (!selection.typeCondition) continue;
        if (isObjectOfType(schema, source, selection.typeCondition)) deepMerge(result, executeSelectionSet(schema, source, selection.selections));
        break;
    }
  }
  return result;
}

function moveIntoCursor(cursor: Cursor, pathInCursor: readonly (string | number)[]): Cursor | undefined {
  const data = flattenResultsAtPath(cursor.data, pathInCursor);
  return data ? { path: cursor.path.concat(pathInCursor), data: data as ResultMap | ResultMap[], fullResult: cursor.fullResult } : undefined;
}

function flattenResultsAtPath(value: unknown, path: readonly (string | number)[]): unknown {
  if (path.length === 0) return value;
  if (value === undefined || value === null) return value;
  const [current, ...rest] = path;
  if (current === '@') return (value as unknown[]).flatMap((element) => flattenResultsAtPath(element, rest));
  assert(typeof current === 'string', () => `Unexpected ${typeof current} found in path`);
  assert(!Array.isArray(value), () => `Unexpected array in result for path element ${current}`);
  return flattenResultsAtPath(hasOwn(value, current) ? (value as ResultMap)[current] : undefined, rest);
}

function downstreamServiceError(original: GraphQLFormattedError, serviceName: string, errorPath: (p: readonly (string | number)[] | undefined) => Path | undefined): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options = { originalError: original as Error, path: errorPath(original.path), extensions: { ...extensions, serviceName } };
  const codeDef = errorCodeDef(original);
  if (!codeDef && extensions?.['code']) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

function executeIntrospection(schema: GraphQLSchema, selection: FieldNode, variableDefinitions: readonly VariableDefinitionNode[] | undefined, variableValues: Record<string, unknown> | undefined): unknown {
  const used = new Set<string>();
  visit(selection, { Variable: ({ name }) => void used.add(name.value) });
  const definitions = variableDefinitions?.filter((d) => used.has(d.variable.name.value));
  assert(used.size === (definitions?.length ?? 0), () => `Should have found all used variables ${[...used].join(',')} in definitions ${JSON.stringify(variableDefinitions)}`);
  const { data, errors } = executeSync({
    schema,
    document: { kind: Kind.DOCUMENT, definitions: [{ kind: Kind.OPERATION_DEFINITION, operation: OperationTypeNode.QUERY, variableDefinitions: definitions, selectionSet: { kind: Kind.SELECTION_SET, selections: [selection] } }] },
    rootValue: {},
    variableValues,
  });
  assert(!errors || errors.length === 0, () => `Introspection query for ${JSON.stringify(selection)} should not have failed but got ${JSON.stringify(errors)}`);
  assert(data, () => `Introspection query for ${JSON.stringify(selection)} should not have failed`);
  const key = selection.alias?.value ?? selection.name.value;
  return hasOwn(data, key) ? data[key] : undefined;
}
