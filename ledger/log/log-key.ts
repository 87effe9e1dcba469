import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { readOrCreateKeyIn } from '../../common/keys.ts';

/**
 * The log signing key: an Ed25519 key that signs the head of every group commit of every chain
 * (the access log and the ledger alike) and the checkpoints sent to off-host witnesses. It is
 * never stored with the log: an operator who can edit DATA_DIR or Redis can re-chain records,
 * but cannot sign them. Configured by LOG_SIGNING_KEY; without it a development key is made in
 * `<parent of DATA_DIR>/log-keys/log-ed25519.pem`, outside DATA_DIR, so that a copy of
 * DATA_DIR (a backup, a volume handed to a storage operator) does not carry it.
 */
export interface LogKey {
  readonly publicKeyPem: string;
  /** The log's identity towards witnesses: a fingerprint of the public key. */
  readonly origin: string;
  /** Where the development key lives, or null when the key was configured. */
  readonly devFile: string | null;
  readonly sign: (payload: string) => string;
}

/** A public key that checks what a LogKey signed (verify needs no private key). */
export interface LogVerifier {
  readonly publicKeyPem: string;
  readonly origin: string;
  readonly valid: (payload: string, sig: string) => boolean;
}

export function originOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

/**
 * One development key per folder that holds DATA_DIRs: a DATA_DIR restored beside the lost one
 * (the backup drill) still verifies, and nothing of it lies inside DATA_DIR.
 */
export function devLogKeyFile(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'log-keys', 'log-ed25519.pem');
}

/** Why a PEM cannot be the log signing key, or null. */
export function logKeyProblem(pem: string): string | null {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return 'is not a PEM private key';
  }
  return key.asymmetricKeyType === 'ed25519' ? null : `must be an Ed25519 private key, got ${key.asymmetricKeyType ?? key.type}`;
}

const cache = new Map<string, LogKey>();

/** The configured key (a PEM), or the development key of `dataDir` made on first use. */
export function logKey(dataDir: string, configuredPem: string | null = null): LogKey {
  const devFile = configuredPem === null ? devLogKeyFile(dataDir) : null;
  const id = devFile ?? configuredPem!;
  const known = cache.get(id);
  if (known !== undefined) return known;
  const pem =
    devFile === null
      ? configuredPem!
      : readOrCreateKeyIn(path.dirname(devFile), path.basename(devFile), () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).value;
  const key = createPrivateKey(pem);
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  const made: LogKey = {
    publicKeyPem,
    origin: originOf(publicKeyPem),
    devFile,
    sign: (payload) => sign(null, Buffer.from(payload), key).toString('base64'),
  };
  cache.set(id, made);
  return made;
}

export function logVerifier(publicKeyPem: string): LogVerifier {
  const key = createPublicKey(publicKeyPem);
  return {
    publicKeyPem,
    origin: originOf(publicKeyPem),
    valid(payload, sig) {
      try {
        return verify(null, Buffer.from(payload), key, Buffer.from(sig, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

const warned = new Set<string>();

/** Said once per process and key: the development key protects nothing against its host. */
export function warnIfDevKey(key: LogKey, warn: (line: string) => void): void {
  if (key.devFile === null || warned.has(key.devFile)) return;
  warned.add(key.devFile);
  warn(`LOG_SIGNING_KEY is not set: log records are signed with a development key kept at ${key.devFile}; anyone who can read it can forge records. Set LOG_SIGNING_KEY to a key held apart from DATA_DIR and Redis (see docs/security.md)`);
}
