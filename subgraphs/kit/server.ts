import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { ResolverMap } from './resolver-map.ts';
import type { DocumentNode } from 'graphql';
import { subgraphContext, type SubgraphContext } from './context.ts';
import { BodyTooLargeError, graphqlRequest, readBody, sendGraphQLResponse, sendJson } from '../../common/http.ts';
import { IDNumberScalar, USCCScalar } from './scalars.ts';
import type { SubgraphServerTls } from '../../common/config-values.ts';
import { identityVerifier, operationDigest, TRUST_HEADER } from '../../common/trust.ts';
import { notSharedCoordinates, notSharedGuard } from './not-shared-guard.ts';

export interface SubgraphDefinition {
  readonly name: string;
  readonly typeDefs: DocumentNode;
  readonly resolvers: ResolverMap;
  /** Releases what the resolvers hold open (stores, connections). */
  readonly close?: () => Promise<void>;
}

export interface RunningSubgraph {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const BODY_LIMIT = 1 << 20;

/** Whether a request body carries the very operation text an identity's `op` digest names. */
function boundTo(body: unknown, digest: string): boolean {
  const query = typeof body === 'object' && body !== null ? (body as { query?: unknown }).query : undefined;
  return typeof query === 'string' && operationDigest(query) === digest;
}

/**
 * One agency's subgraph over HTTP, or HTTPS when given a certificate (then the signed identity
 * cannot be read off the wire and replayed). Every GraphQL request must carry the gateway's signed
 * identity (401 otherwise); GET /health answers without it so the gateway can report reachability.
 */
export async function startSubgraphServer(
  def: SubgraphDefinition,
  opts: {
    host: string;
    port: number;
    /** The gateway's public key (PEM): identities are checked with it, addressed to this subgraph's name. */
    gatewayPublicKey: string;
    /** Called once per GraphQL request (benchmark counters). */
    onRequest?: () => void;
    /** Serve HTTPS with this certificate; with `clientCa`, only clients holding a certificate it issued may connect. */
    tls?: SubgraphServerTls | null;
  },
): Promise<RunningSubgraph> {
  const schema = buildSubgraphSchema({
    typeDefs: def.typeDefs,
    resolvers: { USCC: USCCScalar, IDNumber: IDNumberScalar, ...def.resolvers },
  });
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    introspection: false,
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // The gateway is the only client; it never needs a landing page.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), notSharedGuard(schema, notSharedCoordinates(def.typeDefs, def.name))],
  });
  await apollo.start();
  const verify = identityVerifier(opts.gatewayPublicKey, def.name);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok', subgraph: def.name });
      return;
    }
    if (path !== '/graphql') {
      req.resume();
      sendJson(res, 404, { errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    opts.onRequest?.();
    const header = req.headers[TRUST_HEADER];
    verify(Array.isArray(header) ? header[0] : header)
      .then(async (trust) => {
        if (!trust.ok) {
          req.resume();
          sendJson(res, 401, { errors: [{ message: `${def.name} answers only the exchange gateway: ${trust.why}`, extensions: { code: 'UNAUTHENTICATED' } }] });
          return;
        }
        const body = await readBody(req, BODY_LIMIT);
        const httpGraphQLRequest = graphqlRequest(req, body);
        if (trust.operation !== null && !boundTo(httpGraphQLRequest.body, trust.operation)) {
          sendJson(res, 401, { errors: [{ message: `${def.name} answers only the exchange gateway: the identity was signed for another operation`, extensions: { code: 'UNAUTHENTICATED' } }] });
          return;
        }
        const context = subgraphContext(trust.identity);
        const response = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest,
          context: async () => context,
        });
        await sendGraphQLResponse(res, response, { 'x-data-accesses': String(context.dataAccesses) });
      })
      .catch((err: unknown) => {
        if (err instanceof BodyTooLargeError) sendJson(res, 400, { errors: [{ message: err.message, extensions: { code: 'BAD_USER_INPUT' } }] });
        else if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
        else res.destroy();
      });
  };
  const tls = opts.tls ?? null;
  const server: Server =
    tls === null
      ? createServer(handle)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.clientCa === null ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }) }, handle);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    name: def.name,
    port,
    url: `${tls === null ? 'http' : 'https'}://${host}:${port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await def.close?.();
    },
  };
}
