import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayIdentityConfig } from './config-values.ts';
import { readOrCreateKey } from './keys.ts';

/** The JWS algorithms a gateway identity key may have; the key decides, never the token. */
export type IdentityAlgorithm = 'EdDSA' | 'ES256';

export const DEV_IDENTITY_KEY_FILE = 'gateway-identity-ed25519.pem';
export const DEV_IDENTITY_PUBLIC_FILE = 'gateway-identity-ed25519.pub.pem';

/** Ed25519 → EdDSA, P-256 → ES256; any other key is refused with a sentence naming its type. */
export function identityKeyAlgorithm(key: KeyObject): IdentityAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  const type = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim() : (key.asymmetricKeyType ?? key.type);
  throw new Error(`must be an Ed25519 or P-256 (ES256) key, got ${type}`);
}

/** The public key (SPKI PEM) of a private key PEM. */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

/** Problems of a configured key pair, as sentences for the configuration report. */
export function identityKeyProblems(signingPem: string | null, publicPem: string | null): string[] {
  const problems: string[] = [];
  let derived: string | null = null;
  if (signingPem !== null) {
    try {
      identityKeyAlgorithm(createPrivateKey(signingPem));
      derived = publicKeyOf(signingPem);
    } catch (e) {
      problems.push(`GATEWAY_SIGNING_KEY ${keyMessage(e, 'private')}`);
    }
  }
  if (publicPem !== null) {
    try {
      const key = createPublicKey(publicPem);
      if (key.type !== 'public') throw new Error('is not a public key');
      identityKeyAlgorithm(key);
      if (derived !== null && derived.trim() !== key.export({ type: 'spki', format: 'pem' }).toString().trim()) {
        problems.push('GATEWAY_PUBLIC_KEY is not the public key of GATEWAY_SIGNING_KEY');
      }
    } catch (e) {
      problems.push(`GATEWAY_PUBLIC_KEY ${keyMessage(e, 'public')}`);
    }
  }
  return problems;
}

function keyMessage(e: unknown, kind: 'private' | 'public'): string {
  const m = (e as Error).message;
  return m.startsWith('must be') || m.startsWith('is not') ? m : `is not a PEM ${kind} key`;
}

/**
 * The development key pair in DATA_DIR/keys, made on first use (like the development JWT key).
 * The public half is its own file so that a subgraph reads only what it needs.
 */
export function developmentIdentityKeys(dataDir: string): { privateKeyPem: string; publicKeyPem: string; created: boolean } {
  const { value, created } = readOrCreateKey(dataDir, DEV_IDENTITY_KEY_FILE, () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const publicKeyPem = readOrCreateKey(dataDir, DEV_IDENTITY_PUBLIC_FILE, () => publicKeyOf(value)).value;
  return { privateKeyPem: value, publicKeyPem, created };
}

/** The development public key, made together with its private key if neither exists yet. */
export function developmentIdentityPublicKey(dataDir: string): string {
  try {
    return readFileSync(path.join(dataDir, 'keys', DEV_IDENTITY_PUBLIC_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return developmentIdentityKeys(dataDir).publicKeyPem;
  }
}

/** What a subgraph verifies identities with: GATEWAY_PUBLIC_KEY, the configured key's public half, or the development one. */
export function gatewayPublicKey(config: { readonly gatewayIdentity: GatewayIdentityConfig; readonly dataDir: string }): string {
  const id = config.gatewayIdentity;
  switch (id.kind) {
    case 'configured':
      return id.publicKeyPem;
    case 'dev':
      return developmentIdentityPublicKey(config.dataDir);
  }
}
