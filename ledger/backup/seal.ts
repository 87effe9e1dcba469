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

/**
 * How every file body of an archive is encrypted: AES-256-GCM under a key derived from BACKUP_KEY
 * with scrypt and the archive's own salt. Each stored body is its IV, the ciphertext and GCM's tag,
 * so a body is opened (and authenticated) on its own, one at a time, and the manifest's SHA-256 of
 * each body covers the stored bytes: damage is found without the key, content read only with it.
 */
export interface BodyEncryption {
  readonly cipher: 'aes-256-gcm';
  readonly kdf: 'scrypt';
  readonly salt: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What encryption adds to each stored body. */
export const BODY_OVERHEAD = IV_BYTES + TAG_BYTES;

export function newBodyEncryption(backupKey: string): { info: BodyEncryption; key: Buffer } {
  const salt = randomBytes(16);
  return { info: { cipher: 'aes-256-gcm', kdf: 'scrypt', salt: salt.toString('base64') }, key: derive(backupKey, salt) };
}

export function bodyKey(info: BodyEncryption, backupKey: string): Buffer {
  return derive(backupKey, Buffer.from(info.salt, 'base64'));
}

/** Encrypts one body as it is written, chunk by chunk: `start` gives the IV to store first, `end` the tag to store last. */
export function bodyEncrypter(key: Buffer): { start: Buffer; update: (chunk: Buffer) => Buffer; end: () => Buffer } {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  return { start: iv, update: (chunk) => c.update(chunk), end: () => Buffer.concat([c.final(), c.getAuthTag()]) };
}

/** One stored body opened, or WrongBackupKeyError when the key (or an edit) makes it fail its tag. */
export function openBody(stored: Buffer, key: Buffer): Buffer {
  if (stored.length < IV_BYTES + TAG_BYTES) throw new WrongBackupKeyError('an encrypted body is shorter than its IV and tag');
  const d = createDecipheriv('aes-256-gcm', key, stored.subarray(0, IV_BYTES));
  d.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(stored.subarray(IV_BYTES, stored.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new WrongBackupKeyError('BACKUP_KEY does not open this archive (a different BACKUP_KEY was used to create it)');
  }
}
