import { createHash } from 'node:crypto';
import { ApolloGateway, buildOperationContext, executeQueryPlan, RemoteGraphQLDataSource, type GraphQLDataSource, type ServiceEndpointDefinition, type ServiceMap, type SupergraphSdlHook } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { getVariableValues, type DocumentNode, type GraphQLSchema } from 'graphql';

/**
 * The gateway's query-plan executor, on @apollo/gateway's public seams: ApolloGateway loads the
 * supergraph and builds the data sources (through `buildService`, which is how this module learns
 * them); `onSchemaLoadOrUpdate` hands over each supergraph, from which this module makes its own
 * planner; `buildOperationContext` and `executeQueryPlan` run a plan exactly as ApolloGateway's
 * executor does. What ApolloGateway redoes per request and depends only on the document (the
 * operation context, the plan, and the hash that keys its plan store) is built once per document
 * here, and kept with the supergraph it was built for. A request runs on the supergraph whose
 * schema Apollo Server validated it against, even when a newer one has loaded since.
 */

type OperationContext = ReturnType<typeof buildOperationContext>;

/** Everything about one operation of one document that does not change between requests. */
interface Prepared {
  readonly operationContext: OperationContext;
  /** Built on first use after the variables were accepted, as ApolloGateway plans; a failure is not kept. */
  plan: QueryPlan | null;
}

/** One loaded supergraph and what was built from it; replaced whole when the supergraph changes. */
export interface SchemaVersion {
  /** sha256 of the supergraph SDL, as ApolloGateway names a supergraph. */
  readonly id: string;
  /** The API schema Apollo Server validates requests against. */
  readonly schema: GraphQLSchema;
  readonly apiSchema: Schema;
  readonly supergraphSchema: GraphQLSchema;
  readonly planner: QueryPlanner;
  readonly serviceMap: ServiceMap;
  readonly documents: WeakMap<DocumentNode, Map<string, Prepared>>;
}

export interface PlanExecutingGatewayConfig {
  /** A fixed supergraph, or ApolloGateway's hook that hands over each new one. */
  readonly supergraphSdl: string | SupergraphSdlHook;
  readonly buildService?: (definition: ServiceEndpointDefinition) => GraphQLDataSource;
}

/**
 * An ApolloGateway over `supergraphSdl` whose executor is this one; schema loading, data sources
 * and query planning stay Apollo's.
 */
export function planExecutingGateway(config: PlanExecutingGatewayConfig): GatewayInterface {
  const dataSources = new Map<string, GraphQLDataSource>();
  const build = config.buildService ?? (({ url }: ServiceEndpointDefinition) => new RemoteGraphQLDataSource({ url }));
  const gateway = new ApolloGateway({
    supergraphSdl: config.supergraphSdl,
    buildService(definition) {
      const dataSource = build(definition);
      dataSources.set(definition.name, dataSource);
      return dataSource;
    },
  });
  let current: SchemaVersion | null = null;
  const bySchema = new WeakMap<GraphQLSchema, SchemaVersion>();
  // Registered before load, so the first supergraph is seen; ApolloGateway has built its data
  // sources for a supergraph before it announces it. Each version keeps its own service map, so a
  // request of an older version still reaches the subgraphs (and URLs) of its version.
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    current = schemaVersion(apiSchema, coreSupergraphSdl, dataSources);
    bySchema.set(apiSchema, current);
  });
  const executor: GatewayExecutor = async (rc) => {
    const version = bySchema.get(rc.schema) ?? current;
    if (version === null) throw new Error('gateway executor called before the schema loaded');
    const operationName = rc.request.operationName;
    let byName = version.documents.get(rc.document);
    let entry = byName?.get(operationName ?? '');
    if (entry === undefined) {
      entry = { operationContext: buildOperationContext({ schema: version.schema, operationDocument: rc.document, ...(operationName !== undefined ? { operationName } : {}) }), plan: null };
      if (byName === undefined) {
        byName = new Map();
        version.documents.set(rc.document, byName);
      }
      byName.set(operationName ?? '', entry);
    }
    // As ApolloGateway validates the request's variables before it plans.
    const definitions = entry.operationContext.operation.variableDefinitions;
    if (definitions !== undefined) {
      const { errors } = getVariableValues(version.schema, definitions, rc.request.variables ?? {});
      if (errors !== undefined) return { errors };
    }
    // As ApolloGateway plans: from the whole document, the security limits on.
    entry.plan ??= version.planner.buildQueryPlan(operationFromDocument(version.apiSchema, rc.document, { operationName }), {
      recursiveSelectionsLimitDisabled: false,
      nonLocalSelectionsLimitDisabled: false,
    });
    return executeQueryPlan(entry.plan, version.serviceMap, rc, entry.operationContext, version.supergraphSchema, version.apiSchema);
  };
  return {
    async load(options) {
      const result = await gateway.load(options);
      return result.executor === null ? result : { executor };
    },
    onSchemaLoadOrUpdate: (cb) => gateway.onSchemaLoadOrUpdate(cb),
    stop: () => gateway.stop(),
  };
}

function schemaVersion(schema: GraphQLSchema, supergraphSdl: string, dataSources: ReadonlyMap<string, GraphQLDataSource>): SchemaVersion {
  const supergraph = Supergraph.build(supergraphSdl, { validateSupergraph: false });
  const serviceMap: ServiceMap = Object.create(null) as ServiceMap;
  for (const { name } of supergraph.subgraphsMetadata()) {
    const dataSource = dataSources.get(name);
    if (dataSource === undefined) throw new Error(`no data source was built for subgraph ${name}`);
    serviceMap[name] = dataSource;
  }
  return {
    id: createHash('sha256').update(supergraphSdl).digest('hex'),
    schema,
    apiSchema: supergraph.apiSchema(),
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    planner: new QueryPlanner(supergraph),
    serviceMap,
    documents: new WeakMap(),
  };
}
