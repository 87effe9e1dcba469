import type { ServerResponse } from 'node:http';
import { ERROR_CODES, errorBody, type ErrorCode } from '../../common/errors.ts';
import { refusalMediaType } from './media-type.ts';

/** What every refusal of one request shares: how the client wants it, and its id. */
export interface RefusalTarget {
  readonly res: ServerResponse;
  readonly accept: string | undefined;
  readonly requestId: string;
}

/**
 * Answers a request the gateway refuses itself, before GraphQL runs (401, bad purpose, body too
 * large, unknown route, rate limit): the registry's status, the client's preferred media type, and
 * the request id in the error so it can be quoted to an operator.
 */
export function refuse(
  target: RefusalTarget,
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(errorBody(code, message, { ...extensions, requestId: target.requestId }));
  target.res.writeHead(ERROR_CODES[code].status, {
    ...headers,
    'content-type': refusalMediaType(target.accept),
    'content-length': String(Buffer.byteLength(text)),
  });
  target.res.end(text);
}
