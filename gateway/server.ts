import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { CacheHint } from '@apollo/cache-control-types';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { BodyTooLargeError, graphqlRequest, readBody, sendGraphQLResponse, sendJson } from '../common/http.ts';
import { batchRefusal, isBatch } from './http/batch.ts';
import { bearerChallenge } from './http/challenge.ts';
import { corsFor, isPreflight, preflightHeaders } from './http/cors.ts';
import { requestIdInErrors, withRequestIdInBody } from './http/error-ids.ts';
import { refuse, type RefusalTarget } from './http/refusal.ts';
import { requestIdOf } from './http/request-id.ts';
import { CONNECTIONS_CHECKING_INTERVAL_MS, guardConnections } from './http/connections.ts';
import { directRequest, executeDirect, keepingExecutor, KnownOperations } from './http/known-operations.ts';
import { rateLimiter, sharedRateLimiter } from './rate-limit.ts';
import { rawOperation, refusedEntries } from './refused-audit.ts';
import { identitySigner, TRUST_HEADER } from '../common/trust.ts';
import { gatewaySigningKey } from './identity/gateway-keys.ts';
import { checkVariables, normaliseKeyVariables, operationProblem, planArgumentChecks, variableProblem, type ArgumentPlan } from './arguments.ts';
import { openAuditStore, type AuditStore } from './audit/store.ts';
import { startBackground, type Background } from '../ledger/background/supervisor.ts';
import { backupHealth } from '../ledger/backup/schedule.ts';
import { watchBackups } from '../ledger/backup/state.ts';
import type { Config } from './config.ts';
import { errorBody, exchangeError, isPublicCode } from '../common/errors.ts';
import { governedGateway, noteRepresentations, type GatewayContext } from './governed.ts';
import { healthVerdict, overdueDatasets, seesHealthDetails, sharedProbe, subgraphReachability } from './health.ts';
import { PURPOSE_CODES } from '../common/vocabulary.ts';
import { bearerVerifier, callerOf } from './identity/jwt.ts';
import { verificationKey } from './identity/keys.ts';
import { checkLimits, costProblem, DEFAULT_LIMITS, documentInputProblem, requestCost, variablesInputProblem, type InputLimits, type LimitProblem } from './limits.ts';
import { costBudget, type CostBudget } from './cost-budget.ts';
import { introspectionShapeProblem, isIntrospectionOnly } from './introspection.ts';
import { localAnswers } from './local-answers.ts';
import { disableApolloTelemetry } from './no-telemetry.ts';
import { SubgraphDownError, subgraphPost, type SubgraphAnswer, type SubgraphPost } from './subgraph-fetch.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { consoleLogger, type Logger } from './log.ts';
import { readCatalog } from './sharing/catalog.ts';
import { openSharingPolicy, type SharingPolicy } from './sharing/policy.ts';
import { revisionRecorder } from './sharing/revision-ledger.ts';
import { openLedger } from '../ledger/ledger.ts';
import { logKey, warnIfDevKey } from '../ledger/log/log-key.ts';
import { signToken } from './identity/token.ts';
import { DEV_TOKEN_TTL_SECONDS, webFront } from './web/front.ts';
import { planExecutingGateway } from './plan-executor.ts';

export const BODY_LIMIT = 256 * 1024;
/** Three failures in a row open a subgraph's circuit; a probe goes through every 2 s while open. */
const BREAKER = { failureThreshold: 3, cooldownMs: 2000 } as const;

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly instance: string;
  readonly policy: SharingPolicy;
  readonly audit: AuditStore;
  close(): Promise<void>;
}

/**
 * Signs the caller's identity into every subgraph request, and turns a subgraph that cannot be
 * reached or answers with an HTTP error into SUBGRAPH_UNAVAILABLE naming the agency, never the URL.
 * It posts with the gateway's own lean client (`subgraphPost`) instead of RemoteGraphQLDataSource's
 * fetch: the same request body and the same acceptance rules, less work per fetch.
 */
class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    private readonly sign: (id: GatewayContext['caller'], subgraph: string, operation?: string) => Promise<string>,
    private readonly post: SubgraphPost,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const headers: Record<string, string> = {};
    if (request.http?.headers !== undefined) for (const [name, value] of request.http.headers) headers[name] = value;
    headers['content-type'] = 'application/json';
    // Only an operation has a caller to sign for; a health check or schema load carries none.
    if (request.query === undefined) throw new Error('Missing query');
    const incoming = 'incomingRequestContext' in options ? options : null;
    if (incoming !== null) {
      // Bound to this operation's text: a captured identity cannot be replayed with another query.
      headers[TRUST_HEADER] = await this.sign(incoming.context.caller, this.subgraph, request.query);
      noteRepresentations(incoming.context, request.variables);
    }
    let answer: SubgraphAnswer;
    try {
      answer = await this.post(JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName, extensions: request.extensions }), headers);
    } catch (e) {
      const why = e instanceof SubgraphDownError && e.why === 'timeout' ? ' in time' : e instanceof SubgraphDownError && e.why === 'circuit-open' ? ' (it is down; retrying it shortly)' : '';
      throw new GraphQLError(`The ${this.subgraph} subgraph did not answer${why}; its fields are null.`, {
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: this.subgraph },
        originalError: e instanceof Error ? e : undefined,
      });
    }
    const policy = incoming?.incomingRequestContext.overallCachePolicy as { restrict?: (hint: CacheHint) => void } | undefined;
    if (typeof policy?.restrict === 'function') policy.restrict(cacheHint(answer.cacheControl));
    return answer.body;
  }
}

const NO_HINT: CacheHint = Object.freeze({ maxAge: 0 });
/** Subgraphs send one or two distinct Cache-Control values: each is read once. */
const hints = new Map<string, CacheHint>();

/** A subgraph's Cache-Control header as a cache hint, read as @apollo/gateway's own data source reads it. */
function cacheHint(header: string | undefined): CacheHint {
  if (header === undefined || header === '') return NO_HINT;
  let hint = hints.get(header);
  if (hint === undefined) {
    if (hints.size >= 64) hints.clear();
    hint = Object.freeze(readCacheControl(header));
    hints.set(header, hint);
  }
  return hint;
}

function readCacheControl(header: string): CacheHint {
  const hint: { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } = { maxAge: 0 };
  for (const part of header.trim().split(/\s*,\s*/)) {
    const [k, v] = part.split(/\s*=\s*/, 2) as [string, string?];
    const value = v?.replace(/^"|"$/g, '');
    if (k === 'max-age') hint.maxAge = value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : 0;
    else if (k === 'private' && v === undefined) hint.scope = 'PRIVATE';
    else if (k === 'public' && v === undefined) hint.scope = 'PUBLIC';
  }
  return hint;
}

/** A refusal before the operation runs; thrown from the context or plugins, rendered by Apollo. */
function startupProblem(what: string, err: unknown): Error {
  return new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
}

/** Subgraph errors and unexpected failures are masked: no stack, path, or subgraph URL leaves. */
function maskError(log: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted) => {
    const ext = formatted.extensions ?? {};
    const code = ext['code'];
    const base = { message: formatted.message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
    if (isPublicCode(code) && code !== 'INTERNAL_SERVER_ERROR') {
      const keep: Record<string, unknown> = { code };
      for (const k of ['sharing', 'argument', 'serviceName', 'limit'] as const) if (ext[k] !== undefined) keep[k] = ext[k];
      return { ...base, extensions: keep };
    }
    log.error(`masked error: ${formatted.message} ${JSON.stringify(ext)}`);
    const service = typeof ext['serviceName'] === 'string' ? ext['serviceName'] : null;
    if (service !== null) {
      return { message: `The ${service} subgraph did not answer; its fields are null.`, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: service } };
    }
    return { message: 'Internal error; it has been logged.', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** What the checks below decided about one operation of one document under one schema, kept with the operation. */
const checkPlans = new WeakMap<object, { schema: GraphQLSchema; limit: string | null; input: LimitProblem | null; introspection: boolean; args: ArgumentPlan }>();

/** The bounds on a request's input, and the per-agency budget its cost draws on (null: none). */
interface InputGuard {
  readonly limits: InputLimits;
  readonly budget: CostBudget | null;
}

function limitRefusal(p: LimitProblem): GraphQLError {
  return exchangeError('BAD_USER_INPUT', `Request refused: ${p.message} (${p.limit}).`, { limit: p.limit });
}

/**
 * Limits and key-argument checks, before planning (docs/errors.md): the refusal, or null. Apollo
 * reuses the parsed document of a known query, so what depends only on the document is worked
 * out once per document, not once per request. `chargeTo`: the agency whose budget the request's
 * cost is drawn from, null when it was drawn already (a request replayed after the direct path).
 */
function requestProblem(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, operation: OperationDefinitionNode | undefined, variables: Record<string, unknown> | undefined, guard: InputGuard, chargeTo: string | null): GraphQLError | null {
  const unresolved = operationProblem(document, operationName, operation);
  if (unresolved !== null) return exchangeError(unresolved.code, unresolved.message);
  if (operation === undefined) return null;
  let plan = checkPlans.get(operation);
  if (plan?.schema !== schema) {
    const introspection = isIntrospectionOnly(document, operation);
    const limit = introspection ? introspectionShapeProblem(document, operation) : checkLimits(document, operation, DEFAULT_LIMITS);
    plan = { schema, limit, input: documentInputProblem(document, operationName, operation, guard.limits), introspection, args: planArgumentChecks(schema, document) };
    checkPlans.set(operation, plan);
  }
  if (plan.limit !== null) return exchangeError('BAD_USER_INPUT', `Query refused: ${plan.limit}.`, { limit: 'QUERY_SHAPE' });
  if (plan.input !== null) return limitRefusal(plan.input);
  // Sizes first: a huge variable is refused before anything walks or coerces it.
  const tooLarge = variablesInputProblem(variables, guard.limits);
  if (tooLarge !== null) return limitRefusal(tooLarge);
  const problem = plan.args.literalProblem ?? variableProblem(schema, operation, variables) ?? checkVariables(plan.args, variables);
  if (problem !== null) return exchangeError('BAD_USER_INPUT', problem.message, { argument: problem.argument });
  normaliseKeyVariables(plan.args, variables);
  if (plan.introspection) return null;
  const cost = requestCost(document, operation, variables);
  const overCost = costProblem(cost, guard.limits);
  if (overCost !== null) return limitRefusal(overCost);
  if (chargeTo !== null && guard.budget !== null) {
    const drawn = guard.budget.charge(chargeTo, cost);
    if (!drawn.ok) {
      return limitRefusal({
        limit: 'COST_BUDGET_PER_MINUTE',
        message: `agency ${chargeTo} has ${drawn.remaining} of its budget of ${guard.budget.perMinute} per minute left and this request costs ${cost}; retry in ${drawn.retryAfterSeconds} s`,
      });
    }
  }
  return null;
}

/** The checks as an Apollo plugin; an operation that passes them is remembered for the direct path. */
function requestChecks(known: KnownOperations, guard: InputGuard): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const problem = requestProblem(rc.schema, rc.document, rc.request.operationName, rc.operation, rc.request.variables, guard, rc.contextValue.replay === undefined ? rc.contextValue.caller.agency : null);
          if (problem !== null) throw problem;
          if (rc.operation !== undefined && rc.request.query !== undefined && rc.request.extensions === undefined) {
            known.remember(rc.request.query, rc.request.operationName, { schema: rc.schema, document: rc.document, operation: rc.operation, queryHash: rc.queryHash });
          }
        },
      };
    },
  };
}

export interface GatewayOptions {
  readonly log?: Logger;
  readonly instance?: string;
  /**
   * Replaces the audit store. Only the benchmark uses it, to measure what the audit costs; a
   * deployment always gets the store its configuration names.
   */
  readonly auditStore?: AuditStore;
  /** The clock of the sharing decisions, the rate limiter and the backup schedule (ms since the epoch); tests move it instead of waiting. */
  readonly clock?: () => number;
  /** Build the console's and explorer's bundles at start rather than on the first page load. */
  readonly buildWebAtStart?: boolean;
}

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<RunningGateway> {
  const log = opts.log ?? consoleLogger('gateway');
  let supergraphSdl: string;
  try {
    supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
  } catch (e) {
    throw startupProblem(`SUPERGRAPH_PATH: cannot read the supergraph (${(e as NodeJS.ErrnoException).code ?? 'error'})`, e);
  }
  const catalog = readCatalog(supergraphSdl);
  const key = verificationKey(config);
  if (key.source === 'development key') {
    log.warn(`no JWT_SECRET or JWT_PUBLIC_KEY: using the development key in ${config.dataDir}/keys${key.created ? ' (created now)' : ''}; npm run token signs with it`);
  }
  const verifyBearer = bearerVerifier(key, { issuer: config.jwtIssuer, audience: config.jwtAudience, maxLifetimeSeconds: config.jwtMaxTtlSeconds });
  const signingKey = gatewaySigningKey(config);
  if (signingKey.source === 'development key') {
    log.warn(`no GATEWAY_SIGNING_KEY: signing subgraph identities with the development key pair in ${config.dataDir}/keys${signingKey.created ? ' (created now)' : ''}`);
  }
  const sign = identitySigner(signingKey.privateKeyPem);
  warnIfDevKey(logKey(config.dataDir, config.logSigningKey), (l) => log.warn(l));

  const instance = opts.instance ?? config.instance ?? `${hostname()}-${config.port === 0 ? process.pid : config.port}`;
  // One ledger for this gateway: the policy follows its grants and records its revisions in it.
  const trust = { logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls };
  const ledger = await openLedger({ dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, ...trust, sink: { info: (l) => log.info(l), warn: (l) => log.warn(l) } });
  const revisions = revisionRecorder(ledger, instance, (l) => log.warn(l));
  const now = opts.clock ?? Date.now;
  const startedAt = now();
  const backups = watchBackups(ledger);
  let policy: SharingPolicy;
  try {
    policy = await openSharingPolicy({
      instance,
      ledger,
      onRevision: (rev) => revisions.record(rev),
      catalog,
      policyDir: config.policyDir,
      dataDir: config.dataDir,
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      unclassified: config.unclassifiedFields,
      now,
      log: (line) => log.info(line),
    });
  } catch (e) {
    await revisions.drain();
    await ledger.close();
    throw e;
  }
  let audit: AuditStore;
  try {
    audit = opts.auditStore ?? (await openAuditStore({ dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, ...trust, instance, log }));
  } catch (e) {
    await policy.close();
    await revisions.drain();
    await ledger.close();
    throw e;
  }

  disableApolloTelemetry();
  const overrides = config.subgraphUrls;
  const subgraphUrls = new Map<string, string>();
  const breakers = new Map<string, CircuitBreaker>();
  const apolloGateway = planExecutingGateway({
    supergraphSdl,
    buildService({ name, url }) {
      const target = overrides.get(name) ?? url ?? '';
      subgraphUrls.set(name, target);
      const breaker = new CircuitBreaker(BREAKER, (from, to) => {
        if (to === 'open' && from === 'closed') log.warn(`subgraph ${name}: ${BREAKER.failureThreshold} failures in a row; failing fast, probing again every ${BREAKER.cooldownMs} ms`);
        else if (to === 'closed') log.info(`subgraph ${name}: answering again`);
      });
      breakers.set(name, breaker);
      return new SubgraphDataSource(name, sign, subgraphPost(target, { timeoutMs: config.subgraphTimeoutMs, breaker, tls: config.subgraphTls }));
    },
  });
  const known = new KnownOperations();
  const guard: InputGuard = { limits: config.inputLimits, budget: config.costBudgetPerMinute === null ? null : costBudget(config.costBudgetPerMinute, opts.clock) };
  // Introspection, Query.mayRead and the auditors' chain status, export and explain are answered in the gateway, under governance like any field;
  // Apollo's plans run on the gateway's own plan executor.
  const governed = keepingExecutor(governedGateway(localAnswers(apolloGateway, {
      decide: (caller, coordinate) => policy.decide(caller, coordinate),
      oversight: { location: config, explain: (caller, coordinate) => policy.explain(caller, coordinate) },
    }), { catalog, policy, audit, log }), known);

  const apollo = new ApolloServer<GatewayContext>({
    gateway: governed.gateway,
    introspection: true,
    // bin/run.ts owns SIGINT/SIGTERM: it drains the audit store before exit.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // A bearer token or a purpose header makes a browser preflight the request, which is what CSRF
    // prevention asks for: GET queries from standard clients (urql's default) pass.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization', 'x-purpose'] },
    formatError: maskError(log),
    plugins: [ApolloServerPluginLandingPageDisabled(), requestChecks(known, guard), requestIdInErrors<GatewayContext>()],
  });
  await apollo.start();

  // The explorer and the console; "sign in as" only while the development key is in use.
  const web = webFront({
    devToken: key.source === 'development key' ? (agency, roles) => signToken(key, { agency, roles, ttlSeconds: DEV_TOKEN_TTL_SECONDS, sub: `${agency}-console-dev` }, { issuer: config.jwtIssuer, audience: config.jwtAudience }) : null,
    log,
  });
  if (opts.buildWebAtStart === true) web.warm();

  const limiter =
    config.rateLimitPerMinute === null
      ? null
      : config.redisUrl === null
        ? rateLimiter(config.rateLimitPerMinute, opts.clock)
        : sharedRateLimiter(config.rateLimitPerMinute, { url: config.redisUrl, prefix: config.redisPrefix }, { clock: opts.clock, warn: (l) => log.warn(l) });
  let background: Background | null = null;

  const probeSubgraphs = sharedProbe(async () => {
    const signed = new Map(await Promise.all([...subgraphUrls.keys()].map(async (subgraph) => [subgraph, await sign({ sub: 'gateway-health', agency: 'itd', roles: [], purpose: null }, subgraph)] as const)));
    const healthIdentity = (subgraph: string): [string, string] => [TRUST_HEADER, signed.get(subgraph) ?? ''];
    return Promise.all([subgraphReachability(subgraphUrls, healthIdentity, config.subgraphTls), overdueDatasets(subgraphUrls.get('exchange'), healthIdentity('exchange'), config.subgraphTls)]);
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const target: RefusalTarget = { res, accept: req.headers.accept, requestId };
    const cors = corsFor(req.headers.origin, config.corsOrigins);
    if (cors.kind === 'allowed') for (const [k, v] of Object.entries(cors.headers)) res.setHeader(k, v);
    // Preflights carry no credentials by design, so they are answered before authentication.
    if (isPreflight(req.method, req.headers)) {
      req.resume();
      if (cors.kind === 'allowed') {
        res.writeHead(204, preflightHeaders(cors.headers));
        res.end();
      } else refuse(target, 'ORIGIN_NOT_ALLOWED', `Origin ${String(req.headers.origin).slice(0, 200)} may not call this exchange from a browser: it is not in the gateway's CORS_ORIGINS.`);
      return;
    }
    const [path, search = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    if (path === '/health' && req.method === 'GET') {
      req.resume();
      const [reachability, overdue] = await probeSubgraphs();
      const health = healthVerdict(reachability, { store: audit.kind, writable: audit.writable() }, backupHealth(backups.state, config.backup.intervalSeconds, now(), startedAt, background?.backupRunning() ?? false));
      // A late backup is for the operator to see, not a reason for a load balancer to stop sending requests.
      const status = health.degraded.some((d) => d !== 'backup') ? 503 : 200;
      const auth = req.headers.authorization === undefined ? null : verifyBearer(req.headers.authorization);
      if (!seesHealthDetails(auth?.ok === true ? auth.principal : null)) sendJson(res, status, { status: health.status });
      else sendJson(res, status, { ...health, ...(background === null ? {} : { background: background.health() }), circuits: Object.fromEntries([...breakers].map(([n, b]) => [n, b.phase])), freshness: overdue === null ? 'unknown' : { overdue }, instance });
      return;
    }
    if (await web.handle(req, target, path)) return;
    if (path !== '/graphql') {
      req.resume();
      refuse(target, 'NOT_FOUND', `No route ${path.slice(0, 200)}; GraphQL is served at /graphql, the console at /console, health at /health.`);
      return;
    }
    const auth = verifyBearer(req.headers.authorization);
    if (!auth.ok) {
      req.resume();
      refuse(target, 'UNAUTHENTICATED', `Not authenticated: ${auth.why}.`, {}, { 'www-authenticate': bearerChallenge(req.headers.authorization) });
      return;
    }
    const purposeHeader = req.headers['x-purpose'];
    const purpose = Array.isArray(purposeHeader) ? purposeHeader[0] : purposeHeader;
    if (purpose !== undefined && purpose !== '' && !PURPOSE_CODES.has(purpose)) {
      req.resume();
      refuse(target, 'BAD_USER_INPUT', `x-purpose "${purpose.slice(0, 64)}" is not a purpose code of the catalog; use one of ${[...PURPOSE_CODES].join(', ')}.`, { argument: 'x-purpose' });
      return;
    }
    let body: string;
    try {
      body = await readBody(req, BODY_LIMIT);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        refuse(target, 'BAD_USER_INPUT', `Request body exceeds the limit of ${BODY_LIMIT} bytes.`);
        return;
      }
      throw e;
    }
    if (isBatch(req.headers['content-type'], body)) {
      const refusal = batchRefusal(body, requestId, req.headers.accept);
      res.writeHead(refusal.status, { 'content-type': refusal.contentType, 'content-length': String(Buffer.byteLength(refusal.text)) });
      res.end(refusal.text);
      return;
    }
    const caller = callerOf(auth.principal, purpose === undefined || purpose === '' ? null : purpose);
    if (limiter !== null) {
      const rate = await limiter.take(caller.agency);
      for (const [k, v] of Object.entries(rate.headers)) res.setHeader(k, v);
      if (!rate.ok) {
        try {
          await audit.append(refusedEntries(caller, requestId, rawOperation(req.method, search, body), 'RATE_LIMITED', catalog, new Date(opts.clock?.() ?? Date.now()), config.inputLimits.maxOperationNameLength));
        } catch (err) {
          log.error(`request ${requestId}: audit store refused the rate-limit record`, err);
          refuse(target, 'AUDIT_UNAVAILABLE', 'The request could not be recorded in the audit log. Try again shortly.');
          return;
        }
        refuse(target, 'RATE_LIMITED', `Agency ${caller.agency} is over its limit of ${limiter.perMinute} requests per minute; retry in ${rate.retryAfterSeconds} s.`);
        return;
      }
    }
    let context: GatewayContext = { caller, requestId, representations: [] };
    // A known operation runs without Apollo Server's pipeline; a clean answer is written here.
    const direct = directRequest(req.method, req.headers['content-type'], req.headers.accept, body);
    const operation = direct === null ? undefined : known.find(direct.query, direct.operationName);
    const execute = governed.executor();
    if (direct !== null && operation !== undefined && execute !== null && requestProblem(operation.schema, operation.document, direct.operationName, operation.operation, direct.variables, guard, caller.agency) === null) {
      const outcome = await executeDirect(execute, operation, direct, context);
      if (outcome.kind === 'answer') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(outcome.text) });
        res.end(outcome.text);
        return;
      }
      context = { ...context, replay: outcome.replay };
    }
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: graphqlRequest(req, body), context: async () => context });
    await sendGraphQLResponse(res, withRequestIdInBody(response, requestId));
  };

  const server: Server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('request failed', err);
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', 'Internal error; it has been logged.', { requestId: res.getHeader('x-request-id') }));
      else res.destroy();
    });
  });
  guardConnections(server, config.connections, (line) => log.warn(line));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // The archive shipper and the backup schedule run in a process of their own, off the request path.
  background =
    config.archiveUrl === null && config.backup.intervalSeconds === null
      ? null
      : startBackground({
          settings: { instance, dataDir: config.dataDir, policyDir: config.policyDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, ...trust, archiveUrl: config.archiveUrl, backup: config.backup.intervalSeconds === null ? null : { ...config.backup, intervalMs: config.backup.intervalSeconds * 1000 } },
          sink: log,
        });
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    instance,
    policy,
    audit,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await background?.stop();
      backups.stop();
      await policy.close();
      await revisions.drain();
      await ledger.close();
      await audit.close();
      await limiter?.close();
    },
  };
}
