import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { identityKeyAlgorithm, type IdentityAlgorithm } from './trust-keys.ts';

/**
 * Gateway→subgraph trust (docs/contract.md, Identity): the gateway passes the caller's identity and purpose in a
 * short-lived JWT in this header, signed with its private key (Ed25519 or ES256) and addressed to
 * one subgraph (`aud` = the subgraph's name). A subgraph holds only the public key: it can check
 * an identity but cannot mint one, so whoever runs one subgraph cannot speak to another as anyone.
 */
export const TRUST_HEADER = 'x-exchange-identity';
const ISSUER = 'exchange-gateway';
export const IDENTITY_TTL_SECONDS = 60;
/** Clock skew tolerated between the gateway and a subgraph. */
const SKEW_SECONDS = 30;

export interface ForwardedIdentity {
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
  readonly purpose: string | null;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

// JWS ES256 signatures are r||s (IEEE P1363), not DER; Ed25519 takes no digest.
const digestOf = (algorithm: IdentityAlgorithm): string | null => (algorithm === 'ES256' ? 'sha256' : null);
const keyInput = (key: KeyObject): { key: KeyObject; dsaEncoding: 'ieee-p1363' } => ({ key, dsaEncoding: 'ieee-p1363' });

/** Signs `identity` for `audience` (a subgraph name); the raw signing step, without caching. */
export function signIdentity(privateKeyPem: string, identity: ForwardedIdentity, audience: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const key = createPrivateKey(privateKeyPem);
  return signWith(key, identityKeyAlgorithm(key), identity, audience, nowSeconds);
}

function signWith(key: KeyObject, algorithm: IdentityAlgorithm, id: ForwardedIdentity, audience: string, now: number): string {
  const header = b64(JSON.stringify({ alg: algorithm, typ: 'JWT' }));
  const payload = b64(
    JSON.stringify({ iss: ISSUER, aud: audience, sub: id.sub, agency: id.agency, roles: id.roles, purpose: id.purpose, iat: now, exp: now + IDENTITY_TTL_SECONDS }),
  );
  const input = `${header}.${payload}`;
  const signature = sign(digestOf(algorithm), Buffer.from(input), keyInput(key));
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * Signs identities, reusing a token for the same identity and subgraph while it has more than
 * half its life left: signing on every request would cost more than the rest of the header handling.
 */
export function identitySigner(privateKeyPem: string): (id: ForwardedIdentity, audience: string) => string {
  const key = createPrivateKey(privateKeyPem);
  const algorithm = identityKeyAlgorithm(key);
  const cache = new Map<string, { token: string; renewAt: number }>();
  return (id, audience) => {
    const cacheKey = `${audience}\u0000${id.sub}\u0000${id.agency}\u0000${id.roles.join(',')}\u0000${id.purpose ?? ''}`;
    const now = Date.now();
    const hit = cache.get(cacheKey);
    if (hit !== undefined && hit.renewAt > now) return hit.token;
    const token = signWith(key, algorithm, id, audience, Math.floor(now / 1000));
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, { token, renewAt: now + (IDENTITY_TTL_SECONDS * 1000) / 2 });
    return token;
  };
}

export type TrustCheck = { ok: true; identity: ForwardedIdentity } | { ok: false; why: string };

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The identity in a token whose signature has been checked, or why it is not acceptable. */
function claimsProblem(claims: Record<string, unknown>, audience: string, nowSeconds: number): string | ForwardedIdentity {
  const { iss, aud, sub, agency, roles, purpose, iat, exp } = claims;
  if (iss !== ISSUER) return 'wrong issuer';
  if (aud !== audience) return `identity is for ${typeof aud === 'string' ? `subgraph "${aud.slice(0, 32)}"` : 'no subgraph'}, not "${audience}"`;
  if (typeof exp !== 'number' || typeof iat !== 'number') return 'identity without iat/exp';
  if (exp <= nowSeconds) return 'identity expired';
  if (iat > nowSeconds + SKEW_SECONDS || exp - iat > IDENTITY_TTL_SECONDS) return 'identity lifetime out of bounds';
  if (typeof sub !== 'string' || typeof agency !== 'string') return 'malformed identity';
  if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string')) return 'malformed roles';
  if (purpose !== null && typeof purpose !== 'string') return 'malformed purpose';
  return Object.freeze({ sub, agency, roles: Object.freeze([...roles]), purpose });
}

/**
 * Checks the header with the gateway's public key: only the key's own algorithm, only identities
 * addressed to `audience` (this subgraph). Verified tokens are remembered until they expire.
 */
export function identityVerifier(publicKeyPem: string, audience: string): (header: string | undefined) => TrustCheck {
  const key = createPublicKey(publicKeyPem);
  const algorithm = identityKeyAlgorithm(key);
  const verified = new Map<string, { identity: ForwardedIdentity; expMs: number }>();
  return (header) => {
    if (header === undefined || header === '') return { ok: false, why: 'missing gateway identity' };
    const now = Date.now();
    const hit = verified.get(header);
    if (hit !== undefined && hit.expMs > now) return { ok: true, identity: hit.identity };
    const parts = header.split('.');
    if (parts.length !== 3 || header.length > 8192) return { ok: false, why: 'malformed gateway identity' };
    const [h, p, s] = parts as [string, string, string];
    const head = decodeJson(h);
    if (head === null || head['alg'] !== algorithm) return { ok: false, why: `gateway identity must be signed with ${algorithm}` };
    const ok = verify(digestOf(algorithm), Buffer.from(`${h}.${p}`), keyInput(key), Buffer.from(s, 'base64url'));
    if (!ok) return { ok: false, why: 'bad signature on gateway identity' };
    const claims = decodeJson(p);
    if (claims === null) return { ok: false, why: 'malformed gateway identity' };
    const result = claimsProblem(claims, audience, Math.floor(now / 1000));
    if (typeof result === 'string') return { ok: false, why: result };
    if (verified.size > 10_000) verified.clear();
    verified.set(header, { identity: result, expMs: (claims['exp'] as number) * 1000 });
    return { ok: true, identity: result };
  };
}
