import jwt from 'jsonwebtoken';
import type { Caller } from '../sharing/types.ts';
import { ROLES } from '../../common/vocabulary.ts';
import type { MemberDirectory } from '../../ledger/members.ts';
import type { VerificationKey } from './keys.ts';

export interface Principal {
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
}

/** How far a token issuer's clock may run ahead of the gateway's. */
export const IAT_SKEW_SECONDS = 60;

export type Authentication = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly why: string };

/** Why a member may not call now (suspended, retired), or null: asked on every request, a map lookup. */
function standingProblem(members: MemberDirectory, code: string): string | null {
  const m = members.get(code);
  if (m === undefined) return `agency "${code}" is not a registered member of this exchange`;
  switch (m.status) {
    case 'ACTIVE':
      return null;
    case 'SUSPENDED':
      return `member ${code} is suspended by the authority: its tokens are refused until it is reinstated`;
    case 'RETIRED':
      return `member ${code} is retired: its tokens are refused`;
  }
}

/**
 * Verifies `Authorization: Bearer <JWT>` (docs/contract.md, Identity). Tokens that verified are remembered until
 * they expire, so a client reusing its token pays for the signature check once; whether its agency
 * is an active member (`members`, the live directory) is asked on every request, so a suspension
 * or retirement refuses tokens already in use.
 */
export function bearerVerifier(
  key: VerificationKey,
  opts: { issuer: string; audience: string; /** Longest accepted lifetime (exp - iat), seconds. */ maxLifetimeSeconds?: number; members: MemberDirectory },
): (header: string | undefined) => Authentication {
  const { members } = opts;
  const cache = new Map<string, { principal: Principal; expMs: number }>();
  const standing = (principal: Principal): Authentication => {
    const problem = standingProblem(members, principal.agency);
    return problem === null ? { ok: true, principal } : { ok: false, why: problem };
  };
  return (header) => {
    if (header === undefined || header === '') return { ok: false, why: 'missing Authorization header' };
    // The scheme word is case-insensitive (RFC 7235 §2.1).
    const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(header);
    if (match === null) return { ok: false, why: 'Authorization header must be "Bearer <JWT>"' };
    const token = match[1]!;
    const now = Date.now();
    const hit = cache.get(token);
    if (hit !== undefined) {
      if (hit.expMs > now) return standing(hit.principal);
      cache.delete(token);
    }
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, key.key, { algorithms: [key.algorithm], issuer: opts.issuer, audience: opts.audience });
    } catch (e) {
      return { ok: false, why: tokenProblem(e) };
    }
    if (typeof claims !== 'object') return { ok: false, why: 'token payload must be a JSON object' };
    if (typeof claims.exp !== 'number') return { ok: false, why: 'token has no exp claim' };
    // A token issued "in the future" would outlive any lifetime cap measured from its iat.
    if (typeof claims.iat === 'number' && claims.iat > Math.floor(now / 1000) + IAT_SKEW_SECONDS) {
      return { ok: false, why: `token iat lies in the future (more than ${IAT_SKEW_SECONDS} s ahead of the gateway's clock)` };
    }
    const lifetime = claims.exp - (typeof claims.iat === 'number' ? claims.iat : Math.floor(now / 1000));
    if (opts.maxLifetimeSeconds !== undefined && lifetime > opts.maxLifetimeSeconds) {
      return { ok: false, why: `token lifetime of ${lifetime} s exceeds the gateway's maximum of ${opts.maxLifetimeSeconds} s` };
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') return { ok: false, why: 'token has no sub claim' };
    const agency: unknown = claims['agency'];
    if (typeof agency !== 'string' || agency === '') return { ok: false, why: 'token has no agency claim' };
    // A short code, or the full id <division>/<code> of a member registered here: the principal carries the short code.
    const code = members.resolve(agency);
    if (code === null) return { ok: false, why: `agency ${JSON.stringify(agency.slice(0, 64))} is not a registered member of this exchange` };
    const roles: unknown = claims['roles'] ?? [];
    if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string' && ROLES.has(r))) {
      return { ok: false, why: `roles must be a list of ${[...ROLES].join(', ')}` };
    }
    const principal: Principal = Object.freeze({ sub: claims.sub, agency: code, roles: Object.freeze([...roles].sort()) });
    if (cache.size >= 50_000) cache.clear();
    cache.set(token, { principal, expMs: claims.exp * 1000 });
    return standing(principal);
  };
}

function tokenProblem(e: unknown): string {
  if (e instanceof jwt.TokenExpiredError) return 'token expired';
  if (e instanceof jwt.NotBeforeError) return 'token not yet valid';
  if (e instanceof jwt.JsonWebTokenError) {
    // jsonwebtoken's messages name the failed check without echoing secrets.
    return `token rejected: ${e.message}`;
  }
  return 'token rejected';
}

export function callerOf(principal: Principal, purpose: string | null): Caller {
  return { sub: principal.sub, agency: principal.agency, roles: principal.roles, purpose };
}
