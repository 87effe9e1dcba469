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
