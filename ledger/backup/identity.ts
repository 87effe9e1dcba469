import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Which exchange a backup directory belongs to: the public log key of the exchange whose archives
 * it holds, written there with its first archive. A restore takes it from BACKUP_DIR or OFFSITE_DIR
 * (the DATA_DIR it restores into is empty) and refuses an archive signed by another exchange's key
 * unless the operator says why, which is recorded in the ledger.
 */
export const IDENTITY_FILE = 'exchange-identity.pem';

export interface ExchangeIdentity {
  readonly publicKeyPem: string;
  /** The file it was read from, for the operator. */
  readonly where: string;
}

/** A short, stable name of a log key for one line of output. */
export function keyFingerprint(publicKeyPem: string): string {
  return `sha256:${createHash('sha256').update(publicKeyPem.trim()).digest('hex').slice(0, 16)}`;
}

/** Writes the exchange's identity into `dir` unless one is there already. */
export async function pinIdentity(dir: string, publicKeyPem: string): Promise<void> {
  const file = path.join(dir, IDENTITY_FILE);
  if (existsSync(file)) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${publicKeyPem.trim()}\n`, { mode: 0o644, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** The first identity found in `dirs`, or null when none holds one. */
export function knownIdentity(dirs: readonly (string | null)[]): ExchangeIdentity | null {
  for (const dir of dirs) {
    if (dir === null) continue;
    const file = path.join(dir, IDENTITY_FILE);
    if (existsSync(file)) return { publicKeyPem: readFileSync(file, 'utf8').trim(), where: file };
  }
  return null;
}
