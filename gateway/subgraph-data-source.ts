import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { CacheHint } from '@apollo/cache-control-types';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { TRUST_HEADER } from '../common/trust.ts';
import { noteRepresentations, type GatewayContext } from './governed.ts';
import { cacheHint } from './http/cache-hint.ts';
import { SubgraphDownError, type SubgraphAnswer, type SubgraphPost } from './subgraph-fetch.ts';

/**
 * Signs the caller's identity into every subgraph request, and turns a subgraph that cannot be
 * reached or answers with an HTTP error into SUBGRAPH_UNAVAILABLE naming the agency, never the URL.
 * It posts with the gateway's own lean client (`subgraphPost`) instead of RemoteGraphQLDataSource's
 * fetch: the same request body and the same acceptance rules, less work per fetch.
 */
export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
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
