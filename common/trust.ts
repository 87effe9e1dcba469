import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { errors, importPKCS8, importSPKI, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { identityKeyAlgorithm, type IdentityAlgorithm } from './trust-keys.ts';

/**
 * Gateway→subgraph trust (docs/contract.md, Identity): the gateway passes the caller's identity and purpose in a
 * short-lived JWT in this header, signed with its private key (Ed25519 or ES256) and addressed to
 * one subgraph (`aud` = the subgraph's name). A subgraph holds only the public key: it can check
 * an identity but cannot mint one, so whoever runs one subgraph cannot speak to another as anyone.
 * The JWS itself is made and checked by `jose`; keys are imported once per signer or verifier.
 */
export const TRUST_HEADER = 'x-exchange-identity';
const ISSUER = 'exchange-gateway';
export const IDENTITY_TTL_SECONDS = 60;
/** Clock skew tolerated between the gateway and a subgraph. */
const SKEW_SECONDS = 30;

/**
 * The `op` claim: the SHA-256 of the operation text the identity was signed for. A subgraph
 * answers such an identity only with that operation, so a captured one cannot carry another query.
 */
export function operationDigest(query: string): string {
  return createHash('sha256').update(query).digest('base64url');
}

export interface ForwardedIdentity {
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
  readonly purpose: string | null;
}

/** Signs `identity` for `audience` (a subgraph name); the raw signing step, without caching. */
export async function signIdentity(privateKeyPem: string, identity: ForwardedIdentity, audience: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const algorithm = identityKeyAlgorithm(createPrivateKey(privateKeyPem));
  return signWith(await importPKCS8(privateKeyPem, algorithm), algorithm, identity, audience, nowSeconds);
}

function signWith(key: CryptoKey, algorithm: IdentityAlgorithm, id: ForwardedIdentity, audience: string, now: number, op: string | null = null): Promise<string> {
  return new SignJWT({ agency: id.agency, roles: [...id.roles], purpose: id.purpose, ...(op === null ? {} : { op }) })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setSubject(id.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + IDENTITY_TTL_SECONDS)
    .sign(key);
}

/**
 * Signs identities, reusing a token for the same identity and subgraph while it has more than
 * half its life left: signing on every request would cost more than the rest of the header handling.
 * Concurrent requests for one identity share one signing. Given the operation text, the token is
 * bound to it (`op`); plans send the same few texts again and again, so the cache still hits.
 */
export function identitySigner(privateKeyPem: string): (id: ForwardedIdentity, audience: string, operation?: string) => Promise<string> {
  const algorithm = identityKeyAlgorithm(createPrivateKey(privateKeyPem));
  const key = importPKCS8(privateKeyPem, algorithm);
  const cache = new Map<string, { token: Promise<string>; renewAt: number }>();
  const digests = new Map<string, string>();
  const digestOf = (query: string): string => {
    let d = digests.get(query);
    if (d === undefined) {
      if (digests.size >= 1000) digests.clear();
      d = operationDigest(query);
      digests.set(query, d);
    }
    return d;
  };
  return (id, audience, operation) => {
    const op = operation === undefined ? null : digestOf(operation);
    const cacheKey = `${audience}\u0000${id.sub}\u0000${id.agency}\u0000${id.roles.join(',')}\u0000${id.purpose ?? ''}\u0000${op ?? ''}`;
    const now = Date.now();
    const hit = cache.get(cacheKey);
    if (hit !== undefined && hit.renewAt > now) return hit.token;
    const token = key.then((k) => signWith(k, algorithm, id, audience, Math.floor(now / 1000), op));
    if (cache.size > 10_000) cache.clear();
    const entry = { token, renewAt: now + (IDENTITY_TTL_SECONDS * 1000) / 2 };
    cache.set(cacheKey, entry);
    token.catch(() => {
      if (cache.get(cacheKey) === entry) cache.delete(cacheKey);
    });
    return token;
  };
}

/** A checked identity, with the digest of the operation it is bound to (null: not bound, e.g. a probe). */
export type TrustCheck = { ok: true; identity: ForwardedIdentity; operation: string | null } | { ok: false; why: string };

/** The identity in a token whose signature, issuer, audience and expiry jose has checked, or why it is not acceptable. */
function claimsProblem(claims: Record<string, unknown>, audience: string, nowSeconds: number): string | ForwardedIdentity {
  const { aud, sub, agency, roles, purpose, iat, exp } = claims;
  if (aud !== audience) return `identity is for ${typeof aud === 'string' ? `subgraph "${aud.slice(0, 32)}"` : 'no subgraph'}, not "${audience}"`;
  if (typeof exp !== 'number' || typeof iat !== 'number') return 'identity without iat/exp';
  if (iat > nowSeconds + SKEW_SECONDS || exp - iat > IDENTITY_TTL_SECONDS) return 'identity lifetime out of bounds';
  if (typeof sub !== 'string' || typeof agency !== 'string') return 'malformed identity';
  if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string')) return 'malformed roles';
  if (purpose !== null && typeof purpose !== 'string') return 'malformed purpose';
  return Object.freeze({ sub, agency, roles: Object.freeze([...roles]), purpose });
}

/** jose's refusal as the sentence a subgraph answers with (never the token's content beyond the subgraph name). */
function refusal(e: unknown, algorithm: IdentityAlgorithm, audience: string): string {
  if (e instanceof errors.JWTExpired) return 'identity expired';
  if (e instanceof errors.JOSEAlgNotAllowed) return `gateway identity must be signed with ${algorithm}`;
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'bad signature on gateway identity';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') {
      const aud = e.payload['aud'];
      return `identity is for ${typeof aud === 'string' ? `subgraph "${aud.slice(0, 32)}"` : 'no subgraph'}, not "${audience}"`;
    }
    if (e.claim === 'iss') return 'wrong issuer';
    if (e.claim === 'iat' || e.claim === 'exp') return 'identity without iat/exp';
    return 'malformed identity';
  }
  if (e instanceof errors.JOSEError) return 'malformed gateway identity';
  throw e;
}

/**
 * Checks the header with the gateway's public key: only the key's own algorithm, only identities
 * addressed to `audience` (this subgraph). Verified tokens are remembered until they expire.
 */
export function identityVerifier(publicKeyPem: string, audience: string): (header: string | undefined) => Promise<TrustCheck> {
  const algorithm = identityKeyAlgorithm(createPublicKey(publicKeyPem));
  const key = importSPKI(publicKeyPem, algorithm);
  const options = { algorithms: [algorithm], issuer: ISSUER, audience, requiredClaims: ['iat', 'exp', 'sub'] };
  const verified = new Map<string, { identity: ForwardedIdentity; operation: string | null; expMs: number }>();
  return async (header) => {
    if (header === undefined || header === '') return { ok: false, why: 'missing gateway identity' };
    const now = Date.now();
    const hit = verified.get(header);
    if (hit !== undefined && hit.expMs > now) return { ok: true, identity: hit.identity, operation: hit.operation };
    if (header.length > 8192 || header.split('.').length !== 3) return { ok: false, why: 'malformed gateway identity' };
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(header, await key, { ...options, currentDate: new Date(now) })).payload;
    } catch (e) {
      return { ok: false, why: refusal(e, algorithm, audience) };
    }
    const result = claimsProblem(claims, audience, Math.floor(now / 1000));
    if (typeof result === 'string') return { ok: false, why: result };
    const op = claims['op'];
    if (op !== undefined && typeof op !== 'string') return { ok: false, why: 'malformed operation binding' };
    const operation = op ?? null;
    if (verified.size > 10_000) verified.clear();
    verified.set(header, { identity: result, operation, expMs: (claims['exp'] as number) * 1000 });
    return { ok: true, identity: result, operation };
  };
}
