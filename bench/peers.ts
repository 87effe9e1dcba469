import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { identitySigner, TRUST_HEADER } from '../common/trust.ts';
import { disableApolloTelemetry } from '../gateway/no-telemetry.ts';

/**
 * The gateways users would pick instead of ours, over the same supergraph and subgraphs, with no
 * auth, policy or audit. Each still sends a (fixed, pre-signed) identity header, because the
 * subgraphs demand one.
 */
export interface PeerOptions {
  readonly supergraphSdl: string;
  readonly subgraphUrls: ReadonlyMap<string, string>;
  /** The gateway's identity private key (PEM): the subgraphs verify what it signs. */
  readonly signingKey: string;
}

export interface RunningPeer {
  readonly url: string;
  close(): Promise<void>;
}

/** A signed identity for the subgraph (its name is the token's audience). */
function identityHeader(signingKey: string): (subgraph: string) => Promise<string> {
  const sign = identitySigner(signingKey);
  return (subgraph) => sign({ sub: 'bench', agency: 'itd', roles: [], purpose: null }, subgraph);
}

/** The subgraph a fetch goes to, by its URL. */
function subgraphOfUrl(urls: ReadonlyMap<string, string>): (url: string) => string {
  const byUrl = new Map([...urls].map(([name, u]) => [u, name]));
  return (url) => byUrl.get(url) ?? '';
}

/** The supergraph with each `@join__graph(name:, url:)` pointed at the running subgraph. */
export function withSubgraphUrls(sdl: string, urls: ReadonlyMap<string, string>): string {
  return sdl.replace(/@join__graph\(name: "([^"]+)", url: "[^"]*"\)/g, (whole, name: string) => {
    const url = urls.get(name);
    return url === undefined ? whole : `@join__graph(name: "${name}", url: "${url}")`;
  });
}

/** Apollo's getting-started setup: @apollo/gateway and startStandaloneServer, default fetcher. */
export async function startDefaultApollo(opts: PeerOptions): Promise<RunningPeer> {
  const header = identityHeader(opts.signingKey);
  disableApolloTelemetry();
  const gateway = new ApolloGateway({
    supergraphSdl: opts.supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url: opts.subgraphUrls.get(name) ?? url ?? '',
        async willSendRequest({ request }) {
          request.http?.headers.set(TRUST_HEADER, await header(name));
        },
      }),
  });
  const server = new ApolloServer({ gateway, stopOnTerminationSignals: false });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, close: () => server.stop() };
}

/** Hive Gateway's runtime with the HTTP transport passed in, and the identity header added per fetch. */
export async function startHive(opts: PeerOptions): Promise<RunningPeer> {
  const header = identityHeader(opts.signingKey);
  const subgraphOf = subgraphOfUrl(opts.subgraphUrls);
  const gateway = createGatewayRuntime({
    supergraph: withSubgraphUrls(opts.supergraphSdl, opts.subgraphUrls),
    // Its dynamic transport loading does not find the package from here: pass it in.
    transports: { http: httpTransport },
    logging: false,
    plugins: () => [
      {
        async onFetch(payload) {
          payload.setOptions({ ...payload.options, headers: { ...(payload.options.headers), [TRUST_HEADER]: await header(subgraphOf(payload.url)) } });
        },
      },
    ],
  });
  // The runtime answers node's request callback with a promise the server does not await.
  const server: Server = createServer((req, res) => void gateway(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.dispose();
    },
  };
}
