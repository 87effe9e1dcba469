import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { graphqlRequest, readBody, sendGraphQLResponse } from '../common/http.ts';
import { identitySigner, TRUST_HEADER } from '../common/trust.ts';
import { disableApolloTelemetry } from '../gateway/no-telemetry.ts';
import { subgraphFetch } from '../gateway/subgraph-fetch.ts';

/**
 * The baseline users would otherwise run: a plain @apollo/gateway + @apollo/server over the same
 * supergraph and subgraphs, served by the same node:http front, with no auth, policy or audit.
 * It still sends a (fixed, pre-signed) identity header because the subgraphs demand one.
 */
export async function startBareGateway(opts: { supergraphSdl: string; subgraphUrls: ReadonlyMap<string, string>; signingKey: string }): Promise<{ url: string; close(): Promise<void> }> {
  const sign = identitySigner(opts.signingKey);
  const header = (subgraph: string): Promise<string> => sign({ sub: 'bench', agency: 'itd', roles: [], purpose: null }, subgraph);
  // Neither gateway reports telemetry: the baseline must not do work the governed one skips.
  disableApolloTelemetry();
  const gateway = new ApolloGateway({
    supergraphSdl: opts.supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url: opts.subgraphUrls.get(name) ?? url ?? '',
        // The same HTTP client the governed gateway uses, so the comparison is governance alone.
        fetcher: subgraphFetch,
        async willSendRequest({ request }) {
          request.http?.headers.set(TRUST_HEADER, await header(name));
        },
      }),
  });
  const apollo = new ApolloServer({ gateway, stopOnTerminationSignals: false, plugins: [ApolloServerPluginLandingPageDisabled()] });
  await apollo.start();
  const server: Server = createServer((req, res) => {
    readBody(req, 1 << 20)
      .then(async (body) => sendGraphQLResponse(res, await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: graphqlRequest(req, body), context: async () => ({}) })))
      .catch(() => res.destroy());
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
