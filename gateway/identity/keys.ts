import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readOrCreateKey } from '../../common/keys.ts';
import type { Config } from '../config.ts';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/**
 * The key the gateway verifies tokens with and the one algorithm it accepts for it: the
 * allow-list is fixed by the key type, so `none` and HS/RS confusion can never verify.
 */
export interface VerificationKey {
  readonly algorithm: JwtAlgorithm;
  readonly key: string;
  /** Present when this process can also sign (JWT_SECRET, or the development key). */
  readonly signingKey: string | null;
  readonly source: 'JWT_SECRET' | 'JWT_PUBLIC_KEY' | 'development key';
  /** True when the development key was made just now. */
  readonly created: boolean;
}

export const DEV_KEY_FILE = 'dev-jwt-es256.pem';

export function algorithmOfPublicKey(pem: string): JwtAlgorithm {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`JWT_PUBLIC_KEY must be an RSA or P-256 EC public key, got ${key.asymmetricKeyType ?? 'unknown'}`);
}

export function verificationKey(config: Config): VerificationKey {
  switch (config.jwt.kind) {
    case 'secret':
      return { algorithm: 'HS256', key: config.jwt.secret, signingKey: config.jwt.secret, source: 'JWT_SECRET', created: false };
    case 'public-key':
      return { algorithm: algorithmOfPublicKey(config.jwt.publicKeyPem), key: config.jwt.publicKeyPem, signingKey: null, source: 'JWT_PUBLIC_KEY', created: false };
    case 'dev': {
      const { value, created } = readOrCreateKey(config.dataDir, DEV_KEY_FILE, () =>
        generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      );
      const publicPem = createPublicKey(value).export({ type: 'spki', format: 'pem' }).toString();
      return { algorithm: 'ES256', key: publicPem, signingKey: value, source: 'development key', created };
    }
  }
}
