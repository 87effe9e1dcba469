/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3): `error="invalid_token"` when a
 * credential was sent and refused, the bare scheme when none was sent, so a client can tell
 * "log in" from "log in again".
 */
export function bearerChallenge(authorization: string | undefined): string {
  return authorization === undefined || authorization.trim() === '' ? 'Bearer' : 'Bearer error="invalid_token"';
}
