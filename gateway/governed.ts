import { createHash, randomUUID } from 'node:crypto';
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, Kind, print, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { AuditEntry } from './audit/record.ts';
import { ERROR_CODES, exchangeError } from '../common/errors.ts';
import type { Logger } from './log.ts';
import type { Replay } from './http/known-operations.ts';
import { fillResult, type FillOutcome } from './sharing/fill.ts';
import { HIDDEN_TYPENAME, trimOperation, type FillPlan, type KeySets } from './sharing/trim.ts';
import type { Caller, Catalog, Decision } from './sharing/types.ts';

/** What a request carries through Apollo into the executor. */
export interface GatewayContext {
  readonly caller: Caller;
  readonly requestId: string;
  /**
   * The `representations` lists the query plan's entity fetches sent to subgraphs: the entity keys
   * the plan itself carried, read by the audit where the response does not show them.
   */
  readonly representations: unknown[][];
  /** Set when the request already ran outside Apollo Server's pipeline: its result, to answer with. */
  readonly replay?: Replay;
  /** With a replay: the supergraph version it ran on, for the answer's `x-supergraph-version`. */
  readonly supergraphVersion?: string;
}

/** Called by the subgraph data source for every fetch: keeps an entity fetch's representations. */
export function noteRepresentations(context: Partial<GatewayContext> | undefined, variables: Readonly<Record<string, unknown>> | undefined): void {
  const reps = variables?.['representations'];
  if (Array.isArray(reps)) context?.representations?.push(reps);
}

/** Entity keys of the given types among the representations a request's entity fetches sent. */
function fetchedKeys(representations: readonly unknown[][], keySets: KeySets): (types: readonly string[]) => string[] {
  return (types) => {
    const out = new Set<string>();
    for (const list of representations) {
      for (const rep of list) {
        if (rep === null || typeof rep !== 'object') continue;
        const r = rep as Record<string, unknown>;
        const type = r['__typename'];
        if (typeof type !== 'string' || !types.includes(type)) continue;
        for (const keys of keySets.get(type) ?? []) {
          const parts = keys.map((k) => r[k]);
          if (parts.every((p) => typeof p === 'string' || typeof p === 'number')) {
            out.add(parts.join('|'));
            break;
          }
        }
      }
    }
    return [...out];
  };
}

export interface Governance {
  /** The catalog of the supergraph version a schema was built from: a request is decided on its own version's. */
  readonly catalogOf: (schema: GraphQLSchema) => Catalog;
  readonly policy: { decide(caller: Caller, coordinate: string, now: number, catalog: Catalog): Decision; versionAt(now: number): number; now(): number };
  readonly audit: { append(entries: readonly AuditEntry[]): Promise<void> };
  readonly log: Logger;
}

/** An operation as one caller class may run it: trimmed once, then reused (plan cache included). */
interface Compiled {
  /** The schema and policy version it was decided under; under any other it is decided again. */
  readonly schema: GraphQLSchema;
  readonly version: number;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** The hash the gateway's plan cache sees: the trimmed text's, never another caller's. */
  readonly queryHash: string;
  readonly plan: FillPlan;
  /** Allowed coordinates whose values are another agency's data: a value of one carries the R-25 notice. */
  readonly noticeCoordinates: readonly string[];
}

export const AUTHORITY = 'itd';

export const R25_NOTICE =
  'This response carries other agencies\u2019 data, shared for your declared purpose only; it may not be published or passed on without the providing agency\u2019s consent (粤府办〔2008〕64号 第二十五条).';

function callerKey(c: Caller, operationName: string | null): string {
  return `${c.agency}\u0000${c.roles.join(',')}\u0000${c.purpose ?? ''}\u0000${operationName ?? ''}`;
}

/**
 * Wraps the Apollo gateway so that every operation is decided field by field before the query
 * planner sees it, filled and audited after execution, and released only once audited.
 */
export function governedGateway(inner: GatewayInterface, gov: Governance): GatewayInterface {
  return {
    async load(options) {
      const loaded = await inner.load(options);
      if (loaded.executor === null) return loaded;
      const executor = loaded.executor;
      return {
        executor: async (rc) => {
          const replay = (rc.context as Partial<GatewayContext>).replay;
          // The schema the request was validated against: its supergraph version, to the end.
          if (replay === undefined) return governedExecute(executor, rc.schema, gov, rc);
          // Decided, executed and audited already: the same outcome, cache hints and status included.
          for (const hint of replay.hints) (rc.overallCachePolicy as { restrict(h: unknown): void }).restrict(hint);
          if (replay.status !== undefined && rc.response?.http !== undefined) rc.response.http.status = replay.status;
          return replay.result;
        },
      };
    },
    onSchemaLoadOrUpdate: (cb) => inner.onSchemaLoadOrUpdate(cb),
    stop: () => inner.stop(),
  };
}

// Decisions per whole operation, per caller class; dropped when the schema (the supergraph version) or the policy version moves.
const compiledByDocument = new WeakMap<DocumentNode, Map<string, Compiled>>();

function compile(schema: GraphQLSchema, catalog: Catalog, gov: Governance, rc: GatewayGraphQLRequestContext<GatewayContext>): Compiled {
  const caller = rc.context.caller;
  const key = callerKey(caller, rc.operationName);
  let byCaller = compiledByDocument.get(rc.document);
  const now = gov.policy.now();
  const version = gov.policy.versionAt(now);
  const hit = byCaller?.get(key);
  if (hit !== undefined && hit.version === version && hit.schema === schema) return hit;
  const trimmed = trimOperation(schema, rc.document, rc.operationName, (type, field) => gov.policy.decide(caller, `${type}.${field}`, now, catalog), catalog.keySets);
  let operation = rc.operation;
  let queryHash = rc.queryHash;
  if (trimmed.document !== rc.document) {
    const op = trimmed.document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (rc.operationName === null || d.name?.value === rc.operationName),
    );
    if (op === undefined) throw new Error('trimmed document lost its operation');
    operation = op;
    queryHash = createHash('sha256').update(print(trimmed.document)).digest('hex');
  }
  const noticeCoordinates = trimmed.allowed
    .filter(({ decision }) => {
      const provider = decision.dataset?.provider;
      // The authority's own index and catalog are not another agency's data.
      return provider !== undefined && provider !== caller.agency && provider !== AUTHORITY;
    })
    .map(({ coordinate }) => coordinate);
  const compiled: Compiled = { schema, version, document: trimmed.document, operation, queryHash, plan: trimmed.plan, noticeCoordinates };
  if (byCaller === undefined) {
    byCaller = new Map();
    compiledByDocument.set(rc.document, byCaller);
  }
  if (byCaller.size > 256) byCaller.clear();
  byCaller.set(key, compiled);
  return compiled;
}

async function governedExecute(
  executor: GatewayExecutor,
  schema: GraphQLSchema,
  gov: Governance,
  rc: GatewayGraphQLRequestContext,
): Promise<Awaited<ReturnType<GatewayExecutor>>> {
  const grc = rc as GatewayGraphQLRequestContext<GatewayContext>;
  const catalog = gov.catalogOf(schema);
  const compiled = compile(schema, catalog, gov, grc);
  const inputs = { variables: rc.request.variables, fetchedKeys: fetchedKeys(grc.context.representations, catalog.keySets) };
  let result: Awaited<ReturnType<GatewayExecutor>>;
  try {
    result = await executor(
      compiled.document === rc.document ? rc : { ...rc, document: compiled.document, operation: compiled.operation, queryHash: compiled.queryHash },
    );
  } catch (err) {
    // Planning or execution failed after fields were decided: the decisions are still recorded.
    const unrecorded = await appendOrWithhold(gov, grc, auditEntries(grc, fillResult(null, compiled.plan, inputs), new Map()));
    if (unrecorded !== null) return unrecorded;
    throw err;
  }
  const filled = fillResult(result.data, compiled.plan, inputs);
  const unrecorded = await appendOrWithhold(gov, grc, auditEntries(grc, filled, subgraphDenials(result.errors)));
  if (unrecorded !== null) return unrecorded;

  const errors = [...(result.errors ?? [])];
  for (const e of filled.errors) {
    errors.push(new GraphQLError(e.message, { path: e.path, extensions: e.extensions }));
  }
  let extensions = withoutHiddenKeys(result.extensions);
  if (compiled.noticeCoordinates.some((c) => (filled.access.get(c)?.count ?? 0) > 0)) extensions = { ...extensions, sharing: { notice: R25_NOTICE } };
  return {
    data: filled.data,
    ...(errors.length > 0 ? { errors } : {}),
    ...(extensions !== undefined ? { extensions } : {}),
  };
}

/** Appends the records; null when durable, else the AUDIT_UNAVAILABLE answer that replaces the response. */
async function appendOrWithhold(
  gov: Governance,
  rc: GatewayGraphQLRequestContext<GatewayContext>,
  entries: AuditEntry[],
): Promise<Awaited<ReturnType<GatewayExecutor>> | null> {
  try {
    await gov.audit.append(entries);
    return null;
  } catch (err) {
    gov.log.error(`request ${rc.context.requestId}: audit store refused the records, response withheld`, err);
    if (rc.response?.http !== undefined) rc.response.http.status = ERROR_CODES.AUDIT_UNAVAILABLE.status;
    return {
      errors: [exchangeError('AUDIT_UNAVAILABLE', 'The access could not be recorded in the audit log, so no data was released. Try again shortly.')],
    };
  }
}

/**
 * Apollo reports value-completion problems in `extensions.valueCompletion` with response paths; one
 * on the hidden __typename would name an alias the client never wrote, so it is dropped.
 */
function withoutHiddenKeys(extensions: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const vc = extensions?.['valueCompletion'];
  if (!Array.isArray(vc)) return extensions;
  const kept = vc.filter((e: unknown) => !JSON.stringify(e).includes(HIDDEN_TYPENAME));
  if (kept.length === vc.length) return extensions;
  const rest = { ...extensions };
  delete rest['valueCompletion'];
  return kept.length > 0 ? { ...rest, valueCompletion: kept } : Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * Denials a subgraph decided at resolution time because they depend on the data, not the caller
 * (R-E11 UNPUBLISHED totals): FORBIDDEN errors carrying `extensions.sharing`.
 */
function subgraphDenials(errors: readonly GraphQLError[] | undefined): Map<string, string> {
  const denials = new Map<string, string>();
  for (const e of errors ?? []) {
    const sharing = e.extensions?.['sharing'] as { coordinate?: unknown; reason?: unknown } | undefined;
    if (e.extensions?.['code'] === 'FORBIDDEN' && typeof sharing?.coordinate === 'string' && typeof sharing.reason === 'string') {
      denials.set(sharing.coordinate, sharing.reason);
    }
  }
  return denials;
}

function auditEntries(rc: GatewayGraphQLRequestContext<GatewayContext>, filled: FillOutcome, denied: ReadonlyMap<string, string>): AuditEntry[] {
  const { caller, requestId } = rc.context;
  const ts = new Date().toISOString();
  const entries: AuditEntry[] = [];
  for (const [coordinate, access] of filled.access) {
    const d = access.decision;
    const deniedBySubgraph = denied.size === 0 ? undefined : denied.get(coordinate);
    entries.push({
      ts,
      requestId,
      operationName: rc.operationName,
      operationHash: rc.queryHash,
      sub: caller.sub,
      agency: caller.agency,
      // The principal's roles are a frozen array: shared by every record, never copied.
      roles: caller.roles,
      purpose: caller.purpose,
      coordinate,
      dataset: d.dataset?.id ?? null,
      provider: d.dataset?.provider ?? null,
      class: d.dataset?.class ?? null,
      decision: deniedBySubgraph === undefined ? d.effect : 'DENY',
      reason: deniedBySubgraph ?? d.reason,
      grantId: d.effect === 'ALLOW' && deniedBySubgraph === undefined ? d.grantId : null,
      entityKeys: [...access.entityKeys],
      count: access.count,
    });
  }
  return entries;
}

export function newRequestId(): string {
  return randomUUID();
}
