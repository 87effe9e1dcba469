import { GraphQLClient } from 'graphql-request';

export function exchangeClient(opts: { url: string; token: string; purpose?: string }): GraphQLClient {
  return new GraphQLClient(opts.url, {
    headers: { authorization: `Bearer ${opts.token}`, ...(opts.purpose ? { 'x-purpose': opts.purpose } : {}) },
    // Keep the data of an answer with denied fields instead of throwing it away.
    errorPolicy: 'all',
  });
}
// const { data, errors, extensions } = await client.rawRequest(query, variables);
// errors?.[i].extensions.sharing: a denied field; extensions?.sharing?.notice: R-25
