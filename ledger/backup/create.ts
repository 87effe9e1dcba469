import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { checkpointSigner, LOG_KEY_FILE } from '../log/witness.ts';
import { ARCHIVE_EXT, encodeArchive, entryOf, sealChain, sha256, type ArchiveFile, type ChainEntry, type Manifest } from './archive.ts';
import { packKeys, seal, type SealInfo } from './seal.ts';
import { snapshotLog } from './snapshot.ts';
import { BACKED_UP_LOGS, filesUnder, readerOf, type BackupSource } from './sources.ts';

export class BackupRefusedError extends Error {
  override readonly name = 'BackupRefusedError';
}

export interface CreateOptions {
  readonly source: BackupSource;
  readonly backupDir: string;
  readonly backupKey: string | null;
  /** Leave DATA_DIR/keys out (then a restore needs the keys from elsewhere). */
  readonly withoutKeys?: boolean;
  readonly now?: () => Date;
}

export interface Created {
  readonly file: string;
  readonly manifest: Manifest;
  readonly bytes: number;
  readonly records: number;
  readonly sha256: string;
}

export const KEYS_ENTRY = 'keys.sealed';

/** "20261125T214500Z": sortable, and safe in a file name on every system. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Writes one self-verifying archive of the exchange into backupDir; the exchange may keep running. */
export async function createBackup(opts: CreateOptions): Promise<Created> {
  const { source } = opts;
  if (!existsSync(path.join(source.dataDir, 'keys', LOG_KEY_FILE))) {
    throw new BackupRefusedError(`DATA_DIR ${source.dataDir} holds no exchange log key (keys/${LOG_KEY_FILE}): is DATA_DIR right?`);
  }
  const withKeys = opts.withoutKeys !== true;
  if (withKeys && opts.backupKey === null) {
    throw new BackupRefusedError('BACKUP_KEY is not set: an archive holds the exchange keys encrypted with it, never in clear; set BACKUP_KEY (kept apart from the backups), or pass --without-keys');
  }
  const signer = checkpointSigner(source.dataDir);
  const chains: ChainEntry[] = [];
  const files: ArchiveFile[] = [];
  let records = 0;
  for (const log of BACKED_UP_LOGS) {
    const reader = readerOf(source, log);
    try {
      const s = await snapshotLog(reader, source.dataDir, signer);
      chains.push(...s.chains);
      files.push(...s.files);
      records += s.records;
    } finally {
      await reader.close();
    }
  }
  for (const [rel, body] of await filesUnder(source.policyDir)) files.push(entryOf(rel, 'policy', body));
  let keys: SealInfo | null = null;
  if (withKeys) {
    const sealed = seal(packKeys(await filesUnder(path.join(source.dataDir, 'keys'))), opts.backupKey!);
    keys = sealed.info;
    files.push(entryOf(KEYS_ENTRY, 'keys', sealed.body));
  }
  const createdAt = (opts.now ?? (() => new Date()))();
  const id = `exchange-${stamp(createdAt)}-${randomBytes(3).toString('hex')}`;
  const manifest: Manifest = { format: 1, id, createdAt: createdAt.toISOString(), store: source.redisUrl === null ? 'file' : 'redis', publicKeyPem: signer.publicKeyPem, chains, files: files.map((f) => f.entry), keys };
  const manifestText = JSON.stringify(manifest);
  const archive = encodeArchive(manifest, signer.sign(sealChain(id), files.length, sha256(manifestText)), files.map((f) => f.body));
  const file = path.join(opts.backupDir, `${id}${ARCHIVE_EXT}`);
  await writeDurably(file, archive);
  return { file, manifest, bytes: archive.length, records, sha256: sha256(archive) };
}

/** Written beside, synced, then renamed: a crash leaves the old state or the whole archive, never half. */
export async function writeDurably(file: string, body: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
