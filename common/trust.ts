import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { readOrCreateKey } from './keys.ts';

/**
 * Gateway→subgraph trust (CONTRACT §2): the gateway passes the caller's identity and purpose in a
 * short-lived HS256 token in this header, signed with SUBGRAPH_SECRET; a subgraph refuses any
 * request without a valid one, so subgraphs are reachable only through the gateway.
 */
export const TRUST_HEADER = 'x-exchange-identity';
const ISSUER = 'exchange-gateway';
const AUDIENCE = 'exchange-subgraph';
const TTL_SECONDS = 60;

export interface ForwardedIdentity {
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
  readonly purpose: string | null;
}

/** SUBGRAPH_SECRET when configured, else the development secret shared through DATA_DIR. */
export function subgraphSecret(configured: string | null, dataDir: string): string {
  if (configured !== null) return configured;
  return readOrCreateKey(dataDir, 'subgraph-secret', () => randomBytes(32).toString('hex')).value.trim();
}

/**
 * Signs identities, reusing a token for the same identity while it has more than half its life
 * left: signing on every request would cost more than the rest of the header handling.
 */
export function identitySigner(secret: string): (id: ForwardedIdentity) => string {
  const cache = new Map<string, { token: string; renewAt: number }>();
  return (id) => {
    const key = `${id.sub}\u0000${id.agency}\u0000${id.roles.join(',')}\u0000${id.purpose ?? ''}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit !== undefined && hit.renewAt > now) return hit.token;
    const token = jwt.sign({ agency: id.agency, roles: id.roles, purpose: id.purpose }, secret, {
      algorithm: 'HS256',
      subject: id.sub,
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: TTL_SECONDS,
    });
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { token, renewAt: now + (TTL_SECONDS * 1000) / 2 });
    return token;
  };
}

export type TrustCheck = { ok: true; identity: ForwardedIdentity } | { ok: false; why: string };

/** Verifies the header; verified tokens are remembered until they expire. */
export function identityVerifier(secret: string): (header: string | undefined) => TrustCheck {
  const verified = new Map<string, { identity: ForwardedIdentity; exp: number }>();
  return (header) => {
    if (header === undefined || header === '') return { ok: false, why: 'missing gateway identity' };
    const now = Date.now();
    const hit = verified.get(header);
    if (hit !== undefined && hit.exp > now) return { ok: true, identity: hit.identity };
    try {
      const claims = jwt.verify(header, secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      if (typeof claims !== 'object' || typeof claims.sub !== 'string' || typeof claims.agency !== 'string' || typeof claims.exp !== 'number') {
        return { ok: false, why: 'malformed gateway identity' };
      }
      const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
      const purpose = typeof claims.purpose === 'string' ? claims.purpose : null;
      const identity: ForwardedIdentity = Object.freeze({ sub: claims.sub, agency: claims.agency, roles, purpose });
      if (verified.size > 10_000) verified.clear();
      verified.set(header, { identity, exp: claims.exp * 1000 });
      return { ok: true, identity };
    } catch (e) {
      return { ok: false, why: `invalid gateway identity: ${(e as Error).message}` };
    }
  };
}
