import { GraphQLError } from 'graphql';

/**
 * Every error code a caller can see, with its HTTP status (one registry; codes are never reused).
 * docs/errors.md documents the same list, and a test checks that the two agree.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: { status: 401, meaning: 'No valid token: missing, malformed, bad signature, expired, wrong iss/aud, unknown agency or role.' },
  FORBIDDEN: { status: 200, meaning: 'A field the caller may not read (extensions.sharing says why and what to do), or an operation reserved to a role.' },
  BAD_USER_INPUT: { status: 400, meaning: 'A bad argument (USCC/ID number check character, region code, missing or mistyped variable), unknown x-purpose, a request over the depth, breadth, alias, body, operation-name, text, list or cost limits or its agency\'s cost budget.' },
  GRAPHQL_PARSE_FAILED: { status: 400, meaning: 'The query is not valid GraphQL syntax.' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, meaning: 'The query does not match the schema (unknown field, wrong argument type).' },
  OPERATION_RESOLUTION_FAILURE: { status: 400, meaning: 'The document has several operations and no operationName chose one, or operationName names none of them.' },
  BAD_REQUEST: { status: 400, meaning: 'The HTTP request is not a GraphQL request (wrong method, content type or body), or a subscription.' },
  PERSISTED_QUERY_NOT_FOUND: { status: 200, meaning: 'An automatic persisted query hash the gateway does not know; send the query text.' },
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 200, meaning: 'Persisted queries are disabled.' },
  AUDIT_UNAVAILABLE: { status: 503, meaning: 'The audit log could not record the access; nothing was released. Retry later.' },
  SUBGRAPH_UNAVAILABLE: { status: 200, meaning: 'An agency subgraph did not answer; its fields are null.' },
  NOT_FOUND: { status: 404, meaning: 'No such HTTP route.' },
  RATE_LIMITED: { status: 429, meaning: 'The agency sent more requests than RATE_LIMIT_PER_MINUTE allows; Retry-After says when to try again.' },
  ORIGIN_NOT_ALLOWED: { status: 403, meaning: 'A browser preflight from an origin not listed in CORS_ORIGINS.' },
  INTERNAL_SERVER_ERROR: { status: 500, meaning: 'An unexpected error; details are in the gateway log under the request id.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isPublicCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

export function exchangeError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status: ERROR_CODES[code].status } } });
}

/** A response body with errors only (no data), as sent before execution. */
export function errorBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): { errors: { message: string; extensions: Record<string, unknown> }[] } {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}
