import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { map } from 'rxjs';

// Apollo Client 4 types query results by the default error policy: declare the one set below.
declare module '@apollo/client' {
  export namespace ApolloClient {
    export namespace DeclareDefaultOptions {
      interface Query {
        errorPolicy: 'all';
      }
      interface WatchQuery {
        errorPolicy: 'all';
      }
    }
  }
}

/** `extensions.sharing` of a FORBIDDEN error: why a field came back null, and what to do. */
export interface SharingDenial {
  coordinate: string;
  dataset: string | null;
  provider: string | null;
  class: string | null;
  reason: string;
  remedy: string | null;
}

export interface ExchangeClientOptions {
  url: string; // e.g. http://127.0.0.1:4000/graphql
  token: string; // npm run token -- --agency <your agency>
  purpose?: string; // a purpose code your grants name, sent as x-purpose
  /** Called with the R-25 notice when an answer carries another agency's data. */
  onNotice?: (notice: string) => void;
}

export function exchangeClient(opts: ExchangeClientOptions): ApolloClient {
  // The notice is in the response's extensions, which Apollo Client 4 keeps out of query results.
  const notice = new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      map((result) => {
        const sharing = result.extensions?.['sharing'] as { notice?: string } | undefined;
        if (sharing?.notice !== undefined) opts.onNotice?.(sharing.notice);
        return result;
      }),
    ),
  );
  const http = new HttpLink({
    uri: opts.url,
    headers: { authorization: `Bearer ${opts.token}`, ...(opts.purpose ? { 'x-purpose': opts.purpose } : {}) },
  });
  return new ApolloClient({
    link: ApolloLink.from([notice, http]),
    cache: new InMemoryCache(),
    // A denied field is null with one error; 'all' keeps the rest of the answer and the errors.
    defaultOptions: { query: { errorPolicy: 'all' }, watchQuery: { errorPolicy: 'all' } },
  });
}

/** The sharing denials in a query's error, one per denied field. */
export function sharingDenials(error: unknown): SharingDenial[] {
  if (!CombinedGraphQLErrors.is(error)) return [];
  return error.errors.flatMap((e) => (e.extensions?.['sharing'] ? [e.extensions['sharing'] as SharingDenial] : []));
}
