import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { FileEntry, FileKind } from './archive.ts';
import { bodyEncrypter } from './seal.ts';

const FLUSH_BYTES = 1 << 20;

/**
 * The archive's file bodies, written one after another to a scratch file as they are read, each
 * hashed on the way: memory holds at most one write buffer, whatever the size of the logs. The
 * manifest (which lists every body's size and SHA-256) is known only at the end, so the archive is
 * the header followed by this file.
 */
export class BodyWriter {
  readonly entries: FileEntry[] = [];
  private current: { path: string; kind: FileKind; hash: Hash; bytes: number; cipher: ReturnType<typeof bodyEncrypter> | null } | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `key`: every body is stored encrypted under it (see seal.ts); null only for tests of old archives. */
  private constructor(
    private readonly fh: FileHandle,
    private readonly key: Buffer | null,
  ) {}

  static async open(file: string, key: Buffer | null): Promise<BodyWriter> {
    return new BodyWriter(await open(file, 'w', 0o600), key);
  }

  begin(path: string, kind: FileKind): void {
    if (this.current !== null) throw new Error(`body ${this.current.path} not ended`);
    const cipher = this.key === null ? null : bodyEncrypter(this.key);
    this.current = { path, kind, hash: createHash('sha256'), bytes: 0, cipher };
    if (cipher !== null) this.store(cipher.start);
  }

  async write(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const cur = this.current;
    if (cur === null) throw new Error('write outside a body');
    this.store(cur.cipher === null ? buf : cur.cipher.update(buf));
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** Bytes as they go into the archive: the manifest's size and SHA-256 are of these. */
  private store(buf: Buffer): void {
    const cur = this.current!;
    cur.hash.update(buf);
    cur.bytes += buf.length;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  end(): FileEntry {
    const cur = this.current;
    if (cur === null) throw new Error('no body to end');
    if (cur.cipher !== null) this.store(cur.cipher.end());
    const entry: FileEntry = { path: cur.path, kind: cur.kind, bytes: cur.bytes, sha256: cur.hash.digest('hex') };
    this.entries.push(entry);
    this.current = null;
    return entry;
  }

  async add(path: string, kind: FileKind, body: Buffer): Promise<void> {
    this.begin(path, kind);
    await this.write(body);
    this.end();
  }

  /** Everything written, in order; the bytes total. */
  async close(): Promise<number> {
    await this.flush();
    await this.fh.close();
    return this.entries.reduce((n, e) => n + e.bytes, 0);
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh.write(buf);
  }
}
