import type { GraphQLFormattedError } from 'graphql';
import { isPublicCode } from '../../common/errors.ts';
import type { Logger } from '../log.ts';

/** Subgraph errors and unexpected failures are masked: no stack, path, or subgraph URL leaves. */
export function maskError(log: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted) => {
    const ext = formatted.extensions ?? {};
    const code = ext['code'];
    const base = { message: formatted.message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
    if (isPublicCode(code) && code !== 'INTERNAL_SERVER_ERROR') {
      const keep: Record<string, unknown> = { code };
      for (const k of ['sharing', 'argument', 'serviceName', 'limit'] as const) if (ext[k] !== undefined) keep[k] = ext[k];
      return { ...base, extensions: keep };
    }
    log.error(`masked error: ${formatted.message} ${JSON.stringify(ext)}`);
    const service = typeof ext['serviceName'] === 'string' ? ext['serviceName'] : null;
    if (service !== null) {
      return { message: `The ${service} subgraph did not answer; its fields are null.`, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: service } };
    }
    return { message: 'Internal error; it has been logged.', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
