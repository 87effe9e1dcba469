import { createHash, hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Checkpoint } from '../log/witness.ts';
import type { BodyEncryption, SealInfo } from './seal.ts';

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
  /**
   * Where the copy starts: an incremental archive holds the records after (from, fromHash), the
   * head its parent holds; a full archive starts at 0 (absent in archives made before increments).
   */
  readonly from?: number;
  readonly fromHash?: string;
}

/** The archive an incremental archive adds to: its id and the SHA-256 of the whole file. */
export interface ParentRef {
  readonly id: string;
  readonly sha256: string;
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
  /** Null: a full archive. Otherwise an increment: restoring it needs the parent (and its parents). */
  readonly parent: ParentRef | null;
  /** How every body is encrypted with BACKUP_KEY; absent in archives made before bodies were encrypted. */
  readonly encryption?: BodyEncryption;
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

/** The three header lines; the file bodies follow them. */
export function archiveHeader(manifestText: string, seal: Checkpoint): Buffer {
  return Buffer.from(`${MAGIC}\n${manifestText}\n${JSON.stringify(seal)}\n`);
}

export function fileName(id: string): string {
  return `${id}${ARCHIVE_EXT}`;
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
export interface Header {
  readonly manifestText: string;
  readonly manifest: Manifest;
  readonly seal: Checkpoint;
  /** Where the first file body starts. */
  readonly bodyStart: number;
}

/** The header lines of an archive (the start of it is enough), or why it is not an archive. */
export function parseHeader(buf: Buffer): Header | string {
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
  const parent: unknown = manifest.parent ?? null;
  if (manifest.format !== 1 || !isFileList(files) || !Array.isArray(manifest.chains) || !(parent === null || isParent(parent))) {
    return 'the manifest is not a format-1 manifest';
  }
  return { manifestText, manifest: { ...manifest, parent }, seal, bodyStart: nl3 + 1 };
}

/** Splits an archive into its parts, or says in one line why it is not an archive. */
export function parseArchive(buf: Buffer): Parsed | string {
  const header = parseHeader(buf);
  if (typeof header === 'string') return header;
  const bodies: Buffer[] = [];
  let at = header.bodyStart;
  for (const f of header.manifest.files) {
    bodies.push(buf.subarray(at, Math.min(buf.length, at + f.bytes)));
    at += f.bytes;
  }
  return { manifestText: header.manifestText, manifest: header.manifest, seal: header.seal, bodies, trailing: buf.length - at };
}

/**
 * An archive opened for reading one file body at a time (memory holds one body, never the whole
 * archive): from a file on disk, or from bytes already in memory.
 */
export interface Archive {
  readonly header: Header;
  /** Bytes after the last listed file; negative when the archive is cut short. */
  readonly trailing: number;
  /** The bytes of listed file `i` as found (short, possibly empty, when the archive is cut). */
  body(i: number): Promise<Buffer>;
}

function offsets(header: Header): number[] {
  const out: number[] = [];
  let at = header.bodyStart;
  for (const f of header.manifest.files) {
    out.push(at);
    at += f.bytes;
  }
  out.push(at);
  return out;
}

export function archiveOfBuffer(buf: Buffer): Archive | string {
  const header = parseHeader(buf);
  if (typeof header === 'string') return header;
  const at = offsets(header);
  return {
    header,
    trailing: buf.length - at[at.length - 1]!,
    body: (i) => Promise.resolve(buf.subarray(Math.min(buf.length, at[i]!), Math.min(buf.length, at[i + 1]!))),
  };
}

export async function archiveOfFile(file: string): Promise<Archive | string> {
  const header = await readHeader(file);
  if (typeof header === 'string') return header;
  const at = offsets(header);
  const size = (await stat(file)).size;
  return {
    header,
    trailing: size - at[at.length - 1]!,
    async body(i) {
      const from = Math.min(size, at[i]!);
      const buf = Buffer.alloc(Math.min(size, at[i + 1]!) - from);
      const fh = await open(file, 'r');
      try {
        await fh.read(buf, 0, buf.length, from);
      } finally {
        await fh.close();
      }
      return buf;
    },
  };
}

/** Reads only as much of an archive file as its header takes. */
export async function readHeader(file: string): Promise<Header | string> {
  const fh = await open(file, 'r');
  try {
    let buf = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const chunk = Buffer.alloc(buf.length === 0 ? 65536 : buf.length);
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      pos += bytesRead;
      const h = parseHeader(buf);
      if (typeof h !== 'string' || h !== 'the archive header is cut short' || bytesRead === 0) return h;
    }
  } finally {
    await fh.close();
  }
}

/** SHA-256 of a whole file, read in chunks. */
export async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function isParent(v: unknown): v is ParentRef {
  return typeof v === 'object' && v !== null && typeof (v as ParentRef).id === 'string' && typeof (v as ParentRef).sha256 === 'string';
}

function isFileList(v: unknown): v is readonly FileEntry[] {
  return Array.isArray(v) && v.every((f: unknown) => typeof f === 'object' && f !== null && Number.isSafeInteger((f as { bytes?: unknown }).bytes) && (f as { bytes: number }).bytes >= 0);
}

/** A path inside an archive that could only write where it belongs. */
export function safeRelative(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
