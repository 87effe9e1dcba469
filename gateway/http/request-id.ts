import { randomUUID } from 'node:crypto';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id that ties a response, its errors, the gateway log and the audit records together
 * (docs/developers.md): the client's `x-request-id` when it is well-formed, so a developer can follow
 * their own correlation id into the audit, otherwise a new one. A malformed one is replaced, not
 * refused: it is only a label.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CLIENT_REQUEST_ID.test(value) ? value : randomUUID();
}
