import jwt from 'jsonwebtoken';
import type { VerificationKey } from './keys.ts';

export interface TokenRequest {
  readonly agency: string;
  readonly sub?: string;
  readonly roles?: readonly string[];
  /** Lifetime in seconds. */
  readonly ttlSeconds: number;
}

export function signToken(key: VerificationKey, req: TokenRequest, opts: { issuer: string; audience: string }): string {
  if (key.signingKey === null) {
    throw new Error('this gateway verifies with JWT_PUBLIC_KEY and holds no private key; mint tokens with your identity provider');
  }
  return jwt.sign({ agency: req.agency, roles: req.roles ?? [] }, key.signingKey, {
    algorithm: key.algorithm,
    subject: req.sub ?? `${req.agency}-developer`,
    issuer: opts.issuer,
    audience: opts.audience,
    expiresIn: req.ttlSeconds,
  });
}

/** "90s", "15m", "1h", "7d" → seconds. */
export function parseTtl(text: string): number | null {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n * unit : null;
}
