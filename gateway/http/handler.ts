import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { GatewayExecutor } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { BodyTooLargeError, graphqlRequest, readBody, sendGraphQLResponse } from '../../common/http.ts';
import { PURPOSE_CODES } from '../../common/vocabulary.ts';
import type { AuditStore } from '../audit/store.ts';
import type { GatewayContext } from '../governed.ts';
import { callerOf, type Authentication } from '../identity/jwt.ts';
import type { Logger } from '../log.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { rawOperation, refusedEntries } from '../refused-audit.ts';
import { requestProblem, type InputGuard } from '../request-checks.ts';
import type { Catalog } from '../sharing/types.ts';
import type { WebFront } from '../web/front.ts';
import { batchRefusal, isBatch } from './batch.ts';
import { bearerChallenge } from './challenge.ts';
import { corsFor, isPreflight, preflightHeaders } from './cors.ts';
import { withRequestIdInBody } from './error-ids.ts';
import { directRequest, executeDirect, type KnownOperations, type Replay } from './known-operations.ts';
import { maskError } from './mask-error.ts';
import { refuse, type RefusalTarget } from './refusal.ts';
import { requestIdOf } from './request-id.ts';

export const BODY_LIMIT = 256 * 1024;

/**
 * A replay answered here rather than by Apollo Server, for a request that ran on a supergraph
 * version no longer served: its errors formatted and masked as Apollo Server's formatError does,
 * each with the request id, in Apollo's body order (errors, data, extensions).
 */
function sendReplay(res: ServerResponse, replay: Replay, requestId: string, version: string, format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError): void {
  const { result } = replay;
  const errors = result.errors?.map((e) => {
    const formatted = e instanceof GraphQLError ? e.toJSON() : { message: String((e as { message?: unknown }).message) };
    const masked = format(formatted, e);
    return { ...masked, extensions: { ...masked.extensions, requestId } };
  });
  const text = `${JSON.stringify({ ...(errors !== undefined ? { errors } : {}), ...(result.data !== undefined ? { data: result.data } : {}), ...(result.extensions !== undefined ? { extensions: result.extensions } : {}) })}\n`;
  res.writeHead(replay.status ?? 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), [SUPERGRAPH_VERSION_HEADER]: version });
  res.end(text);
}

/** Names the supergraph version an answer was run on (docs/operations.md). */
export const SUPERGRAPH_VERSION_HEADER = 'x-supergraph-version';

/**
 * Sets `x-supergraph-version` on every answer Apollo Server makes: the version of the schema the
 * request was validated against (or, for a replay, the one it ran on).
 */
export function supergraphVersionHeader(versionOf: (schema: GraphQLSchema) => string): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse(rc) {
          rc.response.http.headers.set(SUPERGRAPH_VERSION_HEADER, rc.contextValue.supergraphVersion ?? versionOf(rc.schema));
          return Promise.resolve();
        },
      });
    },
  };
}

/** What one request needs, built once by the gateway's composition root. */
export interface GatewayHandlerOptions {
  readonly corsOrigins: readonly string[];
  /** GET /health. */
  readonly health: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The explorer and the console. */
  readonly web: WebFront;
  readonly verifyBearer: (header: string | undefined) => Authentication;
  readonly limiter: RateLimiter | null;
  readonly audit: AuditStore;
  /** The catalog of the supergraph version served now (for the records of refused requests). */
  readonly catalog: () => Catalog;
  /** The `x-supergraph-version` of an answer run against `schema`. */
  readonly supergraphVersion: (schema: GraphQLSchema) => string;
  /** The clock of the audit records of refused requests. */
  readonly now: () => number;
  readonly known: KnownOperations;
  /** The input bounds and cost budget of the direct path's checks. */
  readonly guard: InputGuard;
  /** How much of an operation name an audit record of a refused request keeps. */
  readonly maxOperationNameLength: number;
  /** The governed gateway's executor, once Apollo has loaded the schema. */
  readonly governed: { executor(): GatewayExecutor | null };
  readonly apollo: ApolloServer<GatewayContext>;
  readonly log: Logger;
}

/**
 * Answers one HTTP request: CORS and preflights, /health, the web front, then /graphql after
 * authentication, the purpose header, the body limit, batches and the rate limit. A known
 * operation runs on the direct path; everything else goes through Apollo Server.
 */
export function gatewayHandler(opts: GatewayHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { corsOrigins, health, web, verifyBearer, limiter, audit, catalog, supergraphVersion, now, known, guard, maxOperationNameLength, governed, apollo, log } = opts;
  return async (req, res) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const target: RefusalTarget = { res, accept: req.headers.accept, requestId };
    const cors = corsFor(req.headers.origin, corsOrigins);
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
      await health(req, res);
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
          await audit.append(refusedEntries(caller, requestId, rawOperation(req.method, search, body), 'RATE_LIMITED', catalog(), new Date(now()), maxOperationNameLength));
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
    if (direct !== null && operation !== undefined && execute !== null && (await requestProblem(operation.schema, operation.document, direct.operationName, operation.operation, direct.variables, guard, caller.agency)) === null) {
      const outcome = await executeDirect(execute, operation, direct, context);
      const version = supergraphVersion(operation.schema);
      if (outcome.kind === 'answer') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(outcome.text), [SUPERGRAPH_VERSION_HEADER]: version });
        res.end(outcome.text);
        return;
      }
      // Apollo Server would validate the text again against the version served now; one that no
      // longer has a field the request used would refuse an answer already made and audited.
      if (!known.isCurrent(operation.schema)) {
        sendReplay(res, outcome.replay, requestId, version, maskError(log));
        return;
      }
      context = { ...context, replay: outcome.replay, supergraphVersion: version };
    }
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: graphqlRequest(req, body), context: async () => context });
    await sendGraphQLResponse(res, withRequestIdInBody(response, requestId));
  };
}
