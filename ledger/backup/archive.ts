import { hash } from 'node:crypto';
import type { Checkpoint } from '../log/witness.ts';
import type { SealInfo } from './seal.ts';

/**
 * The archive container (Node has no tar): a self-describing file of three text lines and the file
 * bodies after them, in manifest order:
 *
 *   exchange-backup 1
 *   <manifest JSON, one line>
 *   <seal: a checkpoint signed by the exchange's log key over sha256(manifest line)>
 *   <body of files[0]><body of files[1]>...
 *
 * The manifest lists every file with its size and SHA-256 and every chain with its head, so one
 * flipped byte anywhere is found and named.
 */
export const MAGIC = 'exchange-backup 1';
export const ARCHIVE_EXT = '.backup';

export type FileKind = 'segment' | 'witness' | 'policy' | 'keys';

export interface FileEntry {
  /** Where it goes: segments and witnesses relative to DATA_DIR, policies relative to POLICY_DIR. */
  readonly path: string;
  readonly kind: FileKind;
  readonly bytes: number;
  readonly sha256: string;
}

export interface ChainEntry {
  readonly log: string;
  readonly chain: string;
  /** The head copied (whole records only, up to at least the witness). */
  readonly seq: number;
  readonly hash: string;
  /** The newest checkpoint that was on file when the copy began. */
  readonly witnessSeq: number;
}

export interface Manifest {
  readonly format: 1;
  readonly id: string;
  readonly createdAt: string;
  readonly store: 'file' | 'redis';
  /** The exchange's log key (public): the seal and every checkpoint verify with it. */
  readonly publicKeyPem: string;
  readonly chains: readonly ChainEntry[];
  readonly files: readonly FileEntry[];
  /** How the keys file is sealed; null when the archive was made without keys. */
  readonly keys: SealInfo | null;
}

export interface ArchiveFile {
  readonly entry: FileEntry;
  readonly body: Buffer;
}

export function sha256(b: Buffer | string): string {
  return hash('sha256', b, 'hex');
}

export function entryOf(path: string, kind: FileKind, body: Buffer): ArchiveFile {
  return { entry: { path, kind, bytes: body.length, sha256: sha256(body) }, body };
}

/** The seal's chain name: a checkpoint of "backup <id>" whose hash is the manifest's. */
export function sealChain(id: string): string {
  return `backup:${id}`;
}

export function encodeArchive(manifest: Manifest, seal: Checkpoint, bodies: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}\n${JSON.stringify(manifest)}\n${JSON.stringify(seal)}\n`), ...bodies]);
}

export interface Parsed {
  readonly manifestText: string;
  readonly manifest: Manifest;
  readonly seal: Checkpoint;
  /** Each listed file's bytes as found (possibly damaged, possibly short). */
  readonly bodies: readonly Buffer[];
  /** Bytes after the last listed file. */
  readonly trailing: number;
}

/** Splits an archive into its parts, or says in one line why it is not an archive. */
export function parseArchive(buf: Buffer): Parsed | string {
  const nl1 = buf.indexOf(0x0a);
  if (nl1 < 0 || buf.toString('utf8', 0, nl1) !== MAGIC) return 'not an exchange backup archive (first line is not "exchange-backup 1")';
  const nl2 = buf.indexOf(0x0a, nl1 + 1);
  const nl3 = nl2 < 0 ? -1 : buf.indexOf(0x0a, nl2 + 1);
  if (nl3 < 0) return 'the archive header is cut short';
  const manifestText = buf.toString('utf8', nl1 + 1, nl2);
  let manifest: Manifest;
  let seal: Checkpoint;
  try {
    manifest = JSON.parse(manifestText) as Manifest;
    seal = JSON.parse(buf.toString('utf8', nl2 + 1, nl3)) as Checkpoint;
  } catch {
    return 'the archive header (manifest or seal) is damaged';
  }
  const files: unknown = manifest.files;
  if (manifest.format !== 1 || !isFileList(files) || !Array.isArray(manifest.chains)) {
    return 'the manifest is not a format-1 manifest';
  }
  const bodies: Buffer[] = [];
  let at = nl3 + 1;
  for (const f of files) {
    bodies.push(buf.subarray(at, Math.min(buf.length, at + f.bytes)));
    at += f.bytes;
  }
  return { manifestText, manifest, seal, bodies, trailing: buf.length - at };
}

function isFileList(v: unknown): v is readonly FileEntry[] {
  return Array.isArray(v) && v.every((f: unknown) => typeof f === 'object' && f !== null && Number.isSafeInteger((f as { bytes?: unknown }).bytes) && (f as { bytes: number }).bytes >= 0);
}

/** A path inside an archive that could only write where it belongs. */
export function safeRelative(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
