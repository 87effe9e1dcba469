import { cacheExchange, Client, fetchExchange } from '@urql/core';

export function exchangeClient(opts: { url: string; token: string; purpose?: string }): Client {
  return new Client({
    url: opts.url,
    exchanges: [cacheExchange, fetchExchange],
    // urql sends queries as GET: the exchange accepts them because authorization and x-purpose
    // are headers a browser preflights (its CSRF check).
    fetchOptions: () => ({
      headers: { authorization: `Bearer ${opts.token}`, ...(opts.purpose ? { 'x-purpose': opts.purpose } : {}) },
    }),
  });
}
// const { data, error, extensions } = await client.query(query, variables).toPromise();
// error?.graphQLErrors[i].extensions.sharing: a denied field; extensions?.sharing?.notice: R-25
