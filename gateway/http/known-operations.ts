import type { CacheHint } from '@apollo/cache-control-types';
import type { GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface, GatewaySchemaHash } from '@apollo/server-gateway-interface';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';

/**
 * A request whose operation text Apollo Server has already parsed, validated and resolved once
 * skips Apollo Server's request pipeline: the gateway runs it on the same executor with the same
 * document and answers it itself, with the bytes and headers Apollo would have sent. Only a clean
 * answer is written that way (data, no errors, nothing cacheable, no status set); any other
 * outcome is handed to Apollo Server with the result already made (a replay), so every error is
 * formatted, masked and numbered by the one pipeline. Anything unusual about the request itself
 * (another method, media type, Accept value, an `extensions` field, a check that fails) never
 * takes this path.
 */

/** A document Apollo accepted: parsed, valid against `schema`, its operation resolved. */
export interface KnownOperation {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly queryHash: string;
}

/** What an executed request hands back to Apollo Server when it is not answered directly. */
export interface Replay {
  readonly result: GatewayExecutionResult;
  readonly status: number | undefined;
  readonly hints: readonly CacheHint[];
}

/** At most this many operations, and this many characters of operation text, are kept. */
const LIMIT = 1000;
const TEXT_LIMIT = 8 * 1024 * 1024;

/**
 * Known operations by operation name and text, for the schema now loaded: emptied when the schema
 * changes (an operation valid against one schema may not be against the next) and when full (a
 * cache, never the truth).
 */
export class KnownOperations {
  private readonly map = new Map<string, KnownOperation>();
  private text = 0;
  private schema: GraphQLSchema | null = null;

  private static key(query: string, operationName: string | undefined): string {
    return `${operationName ?? ''}\u0000${query}`;
  }

  /** The schema requests are now validated against; what was known under another is forgotten. */
  schemaLoaded(schema: GraphQLSchema): void {
    if (schema === this.schema) return;
    this.schema = schema;
    this.clear();
  }

  /** Kept only when `known` was accepted under the schema now loaded. */
  remember(query: string, operationName: string | undefined, known: KnownOperation): void {
    if (known.schema !== this.schema) return;
    const key = KnownOperations.key(query, operationName);
    if (this.map.has(key)) return;
    if (this.map.size >= LIMIT || this.text + key.length > TEXT_LIMIT) this.clear();
    this.map.set(key, known);
    this.text += key.length;
  }

  /** Whether requests are validated against `schema` now (false once a newer supergraph version has loaded). */
  isCurrent(schema: GraphQLSchema): boolean {
    return schema === this.schema;
  }

  find(query: string, operationName: string | undefined): KnownOperation | undefined {
    return this.map.get(KnownOperations.key(query, operationName));
  }

  private clear(): void {
    this.map.clear();
    this.text = 0;
  }
}

/** A POST body this path takes: a query string, plain-object variables, nothing else unusual. */
export interface DirectRequest {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown> | undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request as Apollo Server would read it, or null for anything this path leaves to Apollo:
 * only POST with `content-type: application/json`, an Accept Apollo answers with
 * `application/json; charset=utf-8` (none, `*\/*` or `application/json`), and a body of
 * `query` (a non-empty string), `variables` (an object or null) and `operationName` (a string or
 * null) alone.
 */
export function directRequest(method: string | undefined, contentType: string | undefined, accept: string | undefined, rawBody: string): DirectRequest | null {
  if (method !== 'POST' || contentType === undefined) return null;
  if (contentType.split(';', 1)[0]!.trim().toLowerCase() !== 'application/json') return null;
  if (accept !== undefined && accept !== '' && accept !== '*/*' && accept !== 'application/json') return null;
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return null;
  }
  if (!isRecord(body)) return null;
  for (const k of Object.keys(body)) if (k !== 'query' && k !== 'variables' && k !== 'operationName') return null;
  const { query, variables, operationName } = body;
  if (typeof query !== 'string' || query === '') return null;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return { query, operationName: operationName ?? undefined, variables: variables ?? undefined };
}

/** The cache policy Apollo Server gives a request; every hint is kept so a replay can repeat it. */
function recordingCachePolicy(): { restrict(hint: CacheHint): void; replace(hint: CacheHint): void; policyIfCacheable(): null | object; readonly hints: CacheHint[]; maxAge: number | undefined; scope: string | undefined } {
  return {
    maxAge: undefined,
    scope: undefined,
    hints: [],
    restrict(hint) {
      this.hints.push(hint);
      if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge)) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined && this.scope !== 'PRIVATE') this.scope = hint.scope;
    },
    replace(hint) {
      if (hint.maxAge !== undefined) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined) this.scope = hint.scope;
    },
    policyIfCacheable() {
      return this.maxAge === undefined || this.maxAge === 0 ? null : { maxAge: this.maxAge, scope: this.scope ?? 'PUBLIC' };
    },
  };
}

/** The outcome of running a known operation directly. */
export type DirectOutcome = { readonly kind: 'answer'; readonly text: string } | { readonly kind: 'replay'; readonly replay: Replay };

/** What Apollo Server 4 and later put in the context's `schemaHash`: the field outlived the hash. */
const NO_SCHEMA_HASH = 'schemaHash no longer exists since Apollo Server 4' as GatewaySchemaHash;

/** Apollo Server hands the gateway its cache; nothing under the gateway reads it, so this one keeps nothing. */
const NO_CACHE: GatewayGraphQLRequestContext['cache'] = {
  get: () => Promise.resolve(undefined),
  set: () => Promise.resolve(),
  delete: () => Promise.resolve(),
};

/** Runs `request` on the gateway's executor as Apollo Server's pipeline would call it. */
export async function executeDirect<C extends object>(execute: GatewayExecutor, known: KnownOperation, request: DirectRequest, context: C): Promise<DirectOutcome> {
  const policy = recordingCachePolicy();
  let status: number | undefined;
  const rc: GatewayGraphQLRequestContext<C> = {
    request: { query: request.query, ...(request.operationName !== undefined ? { operationName: request.operationName } : {}), ...(request.variables !== undefined ? { variables: request.variables } : {}) },
    response: {
      http: {
        headers: new Headers(),
        get status(): number | undefined {
          return status;
        },
        set status(s: number | undefined) {
          status = s;
        },
      },
    },
    logger: console,
    schema: known.schema,
    schemaHash: NO_SCHEMA_HASH,
    context,
    cache: NO_CACHE,
    queryHash: known.queryHash,
    document: known.document,
    source: request.query,
    operationName: known.operation.name?.value ?? null,
    operation: known.operation,
    metrics: {},
    debug: false,
    overallCachePolicy: policy,
    requestIsBatched: false,
  };
  const result = await execute(rc);
  if (result.errors === undefined && result.data !== undefined && status === undefined && policy.policyIfCacheable() === null) {
    // Apollo Server's single-result body: errors, data, extensions in that order, then a newline.
    return { kind: 'answer', text: `${JSON.stringify({ data: result.data, extensions: result.extensions })}\n` };
  }
  return { kind: 'replay', replay: { result, status, hints: policy.hints } };
}

/**
 * The gateway Apollo Server loads, with its executor kept for the direct path and `known` told of
 * every schema it loads.
 */
export function keepingExecutor(gateway: GatewayInterface, known: KnownOperations): { readonly gateway: GatewayInterface; executor(): GatewayExecutor | null } {
  let executor: GatewayExecutor | null = null;
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => known.schemaLoaded(apiSchema));
  return {
    gateway: {
      async load(options) {
        const loaded = await gateway.load(options);
        executor = loaded.executor;
        return loaded;
      },
      onSchemaLoadOrUpdate: (cb) => gateway.onSchemaLoadOrUpdate(cb),
      stop: () => gateway.stop(),
    },
    executor: () => executor,
  };
}
