import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

/**
 * How the keys travel in an archive: AES-256-GCM under a key derived from BACKUP_KEY with scrypt
 * (a fresh salt and IV per archive). GCM's tag makes a wrong BACKUP_KEY and an edited ciphertext
 * the same refusal, so no key material is ever in clear in an archive, nor guessed at on restore.
 */
export interface SealInfo {
  readonly cipher: 'aes-256-gcm';
  readonly kdf: 'scrypt';
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
}

export class WrongBackupKeyError extends Error {
  override readonly name = 'WrongBackupKeyError';
}

function derive(backupKey: string, salt: Buffer): Buffer {
  return scryptSync(backupKey, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}

export function seal(plain: Buffer, backupKey: string): { info: SealInfo; body: Buffer } {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', derive(backupKey, salt), iv);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return { info: { cipher: 'aes-256-gcm', kdf: 'scrypt', salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64') }, body };
}

export function unseal(body: Buffer, info: SealInfo, backupKey: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', derive(backupKey, Buffer.from(info.salt, 'base64')), Buffer.from(info.iv, 'base64'));
  d.setAuthTag(Buffer.from(info.tag, 'base64'));
  try {
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    throw new WrongBackupKeyError('BACKUP_KEY does not open the keys in this archive (a different BACKUP_KEY was used to create it)');
  }
}

/** The files of DATA_DIR/keys as one sealable text: name → content. */
export function packKeys(files: ReadonlyMap<string, Buffer>): Buffer {
  return Buffer.from(JSON.stringify(Object.fromEntries([...files].map(([n, b]) => [n, b.toString('base64')]))));
}

export function unpackKeys(plain: Buffer): Map<string, Buffer> {
  const o = JSON.parse(plain.toString('utf8')) as Record<string, string>;
  return new Map(Object.entries(o).map(([n, b]) => [n, Buffer.from(b, 'base64')]));
}
