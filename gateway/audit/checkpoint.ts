import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readOrCreateKey } from '../../common/keys.ts';

/** A signed statement "instance X's chain had hash H at seq N": lets a bundle be checked offline. */
export interface Checkpoint {
  readonly instance: string;
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  readonly sig: string;
}

export interface CheckpointSigner {
  readonly publicKeyPem: string;
  sign(instance: string, seq: number, hash: string): Checkpoint;
}

function payload(c: Omit<Checkpoint, 'sig'>): Buffer {
  return Buffer.from(JSON.stringify({ instance: c.instance, seq: c.seq, hash: c.hash, ts: c.ts }));
}

/** The gateway's Ed25519 audit key, made in DATA_DIR/keys on first use. */
export function checkpointSigner(dataDir: string): CheckpointSigner {
  const pem = readOrCreateKey(dataDir, 'audit-ed25519.pem', () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  ).value;
  const key = createPrivateKey(pem);
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    sign(instance, seq, hash) {
      const body = { instance, seq, hash, ts: new Date().toISOString() };
      return { ...body, sig: sign(null, payload(body), key).toString('base64') };
    },
  };
}

export function checkpointValid(c: Checkpoint, publicKeyPem: string): boolean {
  try {
    return verify(null, payload(c), createPublicKey(publicKeyPem), Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}
