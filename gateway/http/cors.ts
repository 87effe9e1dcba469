/** Cross-origin access by allow-list (CORS_ORIGINS, docs/developers.md). */

export const CORS_ALLOWED_METHODS = 'GET, POST, OPTIONS';

/** What a browser client of the exchange sends: identity, purpose, correlation and Apollo's own headers. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'x-purpose',
  'x-request-id',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
].join(', ');

/** Response headers a browser script may read: the correlation id and why a request was refused. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'x-supergraph-version', 'www-authenticate', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy'].join(', ');

export type CorsOutcome =
  /** No Origin header: not a cross-origin browser request; nothing to add. */
  | { readonly kind: 'same-origin' }
  /** A listed origin: these headers go on every response to it. */
  | { readonly kind: 'allowed'; readonly headers: Readonly<Record<string, string>> }
  /** An origin not on the list: no CORS header at all, so the browser withholds the answer. */
  | { readonly kind: 'refused'; readonly origin: string };

export function corsFor(origin: string | undefined, allowed: readonly string[]): CorsOutcome {
  if (origin === undefined || origin === '') return { kind: 'same-origin' };
  if (!allowed.includes(origin)) return { kind: 'refused', origin };
  return { kind: 'allowed', headers: { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSED_HEADERS, vary: 'Origin' } };
}

/** A CORS preflight: OPTIONS naming the method the browser wants to use. */
export function isPreflight(method: string | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  return method === 'OPTIONS' && headers['origin'] !== undefined && headers['access-control-request-method'] !== undefined;
}

/** The headers of the answer to a preflight from a listed origin. */
export function preflightHeaders(allowed: Readonly<Record<string, string>>): Record<string, string> {
  return {
    ...allowed,
    'access-control-allow-methods': CORS_ALLOWED_METHODS,
    'access-control-allow-headers': CORS_ALLOWED_HEADERS,
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
}
