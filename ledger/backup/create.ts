import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ChainHead } from '../log/chain.ts';
import { checkpointSigner, LOG_KEY_FILE } from '../log/witness.ts';
import { ARCHIVE_EXT, archiveHeader, fileName, readHeader, sealChain, sha256, type ChainEntry, type Header, type Manifest, type ParentRef } from './archive.ts';
import { BodyWriter } from './body.ts';
import { pinIdentity } from './identity.ts';
import { newBodyEncryption, packKeys, seal, type SealInfo } from './seal.ts';
import { chainKey, snapshotLog } from './snapshot.ts';
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
  /** `auto` (the default): incremental while the newest archive's chain holds fewer than `increments` increments. */
  readonly mode?: 'auto' | 'full' | 'incremental';
  readonly increments?: number;
  readonly now?: () => Date;
  /** Told why an incremental archive could not be made (then it is a full one). */
  readonly say?: (line: string) => void;
}

export interface Created {
  readonly file: string;
  readonly manifest: Manifest;
  readonly bytes: number;
  /** Records copied into this archive (for an increment, those added since its parent). */
  readonly records: number;
  readonly sha256: string;
}

export const KEYS_ENTRY = 'keys.sealed';

/** "20261125T214500Z": sortable, and safe in a file name on every system. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Writes one self-verifying archive of the exchange into backupDir; the exchange may keep running.
 * The bodies stream through a scratch file (memory stays bounded by one read batch, whatever the
 * size of the logs); the archive is then its header and that file, written beside and renamed.
 */
export async function createBackup(opts: CreateOptions): Promise<Created> {
  const { source } = opts;
  if (!existsSync(path.join(source.dataDir, 'keys', LOG_KEY_FILE))) {
    throw new BackupRefusedError(`DATA_DIR ${source.dataDir} holds no exchange log key (keys/${LOG_KEY_FILE}): is DATA_DIR right?`);
  }
  const withKeys = opts.withoutKeys !== true;
  if (opts.backupKey === null) {
    throw new BackupRefusedError('BACKUP_KEY is not set: an archive is encrypted with it whole (access records, requests, keys), never in clear; set BACKUP_KEY (kept apart from the backups)');
  }
  const backupKey = opts.backupKey;
  const signer = checkpointSigner(source.dataDir);
  const say = opts.say ?? (() => undefined);
  await mkdir(opts.backupDir, { recursive: true, mode: 0o700 });
  const parent = await chooseParent(opts.backupDir, opts.mode ?? 'auto', opts.increments ?? 0, signer.publicKeyPem, say);
  const after = new Map<string, ChainHead>((parent?.header.manifest.chains ?? []).map((c) => [chainKey(c.log, c.chain), { seq: c.seq, hash: c.hash }]));

  const scratch = path.join(opts.backupDir, `.body-${randomBytes(6).toString('hex')}.tmp`);
  const encryption = newBodyEncryption(backupKey);
  const body = await BodyWriter.open(scratch, encryption.key);
  try {
    const chains: ChainEntry[] = [];
    let records = 0;
    let keys: SealInfo | null = null;
    try {
      for (const log of BACKED_UP_LOGS) {
        const reader = readerOf(source, log);
        try {
          const s = await snapshotLog(reader, source.dataDir, signer, body, after);
          chains.push(...s.chains);
          records += s.records;
        } finally {
          await reader.close();
        }
      }
      for (const [rel, buf] of await filesUnder(source.policyDir)) await body.add(rel, 'policy', buf);
      if (withKeys) {
        const sealed = seal(packKeys(await filesUnder(path.join(source.dataDir, 'keys'))), backupKey);
        keys = sealed.info;
        await body.add(KEYS_ENTRY, 'keys', sealed.body);
      }
    } finally {
      await body.close();
    }
    const createdAt = (opts.now ?? (() => new Date()))();
    const id = `exchange-${stamp(createdAt)}-${randomBytes(3).toString('hex')}`;
    const manifest: Manifest = {
      format: 1,
      id,
      createdAt: createdAt.toISOString(),
      store: source.redisUrl === null ? 'file' : 'redis',
      publicKeyPem: signer.publicKeyPem,
      chains,
      files: body.entries,
      keys,
      parent: parent?.ref ?? null,
      encryption: encryption.info,
    };
    const manifestText = JSON.stringify(manifest);
    const header = archiveHeader(manifestText, signer.sign(sealChain(id), body.entries.length, sha256(manifestText)));
    const file = path.join(opts.backupDir, fileName(id));
    const written = await writeArchive(file, header, scratch);
    await pinIdentity(opts.backupDir, signer.publicKeyPem);
    return { file, manifest, bytes: written.bytes, records, sha256: written.sha256 };
  } finally {
    await rm(scratch, { force: true });
  }
}

/** The header, then the bodies copied from the scratch file; synced, then renamed into place. */
async function writeArchive(file: string, header: Buffer, scratch: string): Promise<{ bytes: number; sha256: string }> {
  const tmp = `${file}.${process.pid}.tmp`;
  const h = createHash('sha256').update(header);
  let bytes = header.length;
  // Owner-only: even encrypted, an archive is the whole exchange.
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.write(header);
    for await (const chunk of createReadStream(scratch, { highWaterMark: 1 << 20 })) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      await fh.write(chunk as Buffer);
    }
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  return { bytes, sha256: h.digest('hex') };
}

interface Candidate {
  readonly file: string;
  readonly header: Header;
}

/**
 * The archive an increment adds to: the newest archive in the directory made by this exchange,
 * whole (every body matches its SHA-256), unless the mode or the chain length says full. Says why
 * when an increment was asked for and a full archive is made instead.
 */
async function chooseParent(dir: string, mode: 'auto' | 'full' | 'incremental', increments: number, publicKeyPem: string, say: (line: string) => void): Promise<{ ref: ParentRef; header: Header } | null> {
  if (mode === 'full' || (mode === 'auto' && increments === 0)) return null;
  const found: Candidate[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(ARCHIVE_EXT))) {
    const file = path.join(dir, name);
    const header = await readHeader(file).catch(() => 'unreadable');
    if (typeof header !== 'string' && header.manifest.publicKeyPem.trim() === publicKeyPem.trim()) found.push({ file, header });
  }
  const newest = found.sort((a, b) => (a.header.manifest.createdAt < b.header.manifest.createdAt ? 1 : -1))[0];
  if (newest === undefined) {
    if (mode === 'incremental') say('no archive of this exchange in BACKUP_DIR to add to: making a full archive');
    return null;
  }
  if (mode === 'auto') {
    const byId = new Map(found.map((c) => [c.header.manifest.id, c.header.manifest]));
    let depth = 0;
    for (let m = newest.header.manifest; m.parent !== null; depth++) {
      const p = byId.get(m.parent.id);
      if (p === undefined) return null;
      m = p;
    }
    if (depth >= increments) return null;
  }
  const scanned = await scanArchive(newest.file, newest.header);
  if (scanned.problem !== null) {
    say(`the newest archive ${path.basename(newest.file)} is damaged (${scanned.problem}): making a full archive`);
    return null;
  }
  return { ref: { id: newest.header.manifest.id, sha256: scanned.sha256 }, header: newest.header };
}

/** Reads an archive once, in chunks: its SHA-256, and the first body whose SHA-256 differs from the manifest's. */
export async function scanArchive(file: string, header: Header): Promise<{ sha256: string; problem: string | null }> {
  const whole = createHash('sha256');
  const files = header.manifest.files;
  let i = 0;
  let left = files[0]?.bytes ?? 0;
  let part = createHash('sha256');
  let problem: string | null = null;
  let pos = 0;
  const closeFinished = (): void => {
    while (i < files.length && left === 0) {
      if (problem === null && part.digest('hex') !== files[i]!.sha256) problem = `${files[i]!.path}: SHA-256 does not match the manifest (the file is damaged)`;
      i++;
      part = createHash('sha256');
      left = files[i]?.bytes ?? 0;
    }
  };
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const chunk = c as Buffer;
    whole.update(chunk);
    let at = Math.max(0, header.bodyStart - pos);
    pos += chunk.length;
    closeFinished();
    while (at < chunk.length && i < files.length) {
      const n = Math.min(left, chunk.length - at);
      part.update(chunk.subarray(at, at + n));
      at += n;
      left -= n;
      closeFinished();
    }
    if (at < chunk.length && i >= files.length && problem === null) problem = 'archive: unexpected bytes after the last listed file';
  }
  closeFinished();
  if (problem === null && i < files.length) problem = `${files[i]!.path}: missing or cut short`;
  return { sha256: whole.digest('hex'), problem };
}
