import { accessSync, constants, existsSync, mkdirSync, statSync, readdirSync, readFileSync, writeFileSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { checkpointSigner, type Checkpoint } from './checkpoint.ts';
import { chainLine, GENESIS, type AuditEntry, type AuditRecord } from './record.ts';
import { groupCommitter } from './group-commit.ts';
import { AuditUnavailableError, filterRecords, type AuditFilter, type AuditStore, type StoreLog, type StoreStats } from './store-types.ts';

export const SEGMENT_BYTES = 64 * 1024 * 1024;
const CHECKPOINT_EVERY = 1000;
const CHECKPOINT_MS = 5000;

function segmentName(n: number): string {
  return `${String(n).padStart(6, '0')}.jsonl`;
}

export function segmentsOf(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^\d{6}\.jsonl$/.test(f)).sort();
}

export function instancesOf(auditDir: string): string[] {
  if (!existsSync(auditDir)) return [];
  return readdirSync(auditDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

/** Every whole record under DATA_DIR/audit, all instances (torn lines are verify's business). */
export function readFileRecords(auditDir: string): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const inst of instancesOf(auditDir)) {
    const idir = path.join(auditDir, inst);
    for (const seg of segmentsOf(idir)) {
      for (const line of readFileSync(path.join(idir, seg), 'utf8').split('\n')) {
        if (line === '') continue;
        try {
          records.push(JSON.parse(line) as AuditRecord);
        } catch {
          // a torn line is reported by verify, not served
        }
      }
    }
  }
  return records;
}

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims the instance directory; a lock left by a dead process is taken over. */
function lock(dir: string, instance: string): void {
  const file = path.join(dir, 'lock');
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (pid !== process.pid && pid > 0 && pidAlive(pid)) {
      throw new Error(`audit instance "${instance}" is in use by process ${pid}; give each gateway its own INSTANCE_ID`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  writeFileSync(file, String(process.pid));
}

/**
 * Finds where the chain of the last segment ends. A torn final line (kill -9 mid-write: never
 * acknowledged to anyone) is moved to a `.torn` file beside the segment and reported, then the
 * segment is cut back to its last whole record so the chain continues from there.
 */
function recover(dir: string, log: StoreLog): { segment: number; size: number; seq: number; hash: string } {
  const segments = segmentsOf(dir);
  if (segments.length === 0) return { segment: 1, size: 0, seq: 0, hash: GENESIS };
  const lastName = segments[segments.length - 1]!;
  const lastFile = path.join(dir, lastName);
  let buf = readFileSync(lastFile);
  const end = buf.lastIndexOf(0x0a) + 1;
  if (end < buf.length) {
    const tornFile = `${lastFile}.torn-${Date.now()}`;
    writeFileSync(tornFile, buf.subarray(end));
    writeFileSync(lastFile, buf.subarray(0, end));
    log.warn(`audit: torn last line in ${path.basename(dir)}/${lastName} (${buf.length - end} bytes after the last whole record) moved to ${path.basename(tornFile)}; the chain continues from the last whole record`);
    buf = buf.subarray(0, end);
  }
  const at = { segment: Number(lastName.slice(0, 6)), size: buf.length, seq: 0, hash: GENESIS };
  // The newest whole record, in this segment or (if it is empty after a rotation) an earlier one.
  for (let i = segments.length - 1; i >= 0; i--) {
    const b = i === segments.length - 1 ? buf : readFileSync(path.join(dir, segments[i]!));
    if (b.length === 0) continue;
    const start = b.lastIndexOf(0x0a, b.length - 2) + 1;
    const last = JSON.parse(b.subarray(start, b.length - 1).toString('utf8')) as AuditRecord;
    return { ...at, seq: last.seq, hash: last.hash };
  }
  return at;
}

/**
 * JSON lines under DATA_DIR/audit/<instance>/, with group commit: appends that arrive while a
 * write is in flight wait for the next one, and each write is one write() and one fdatasync()
 * for all of them. Nothing resolves before its bytes are on disk.
 */
export async function openFileAuditStore(opts: { dataDir: string; instance: string; segmentBytes?: number; log: StoreLog }): Promise<AuditStore> {
  const auditDir = path.join(opts.dataDir, 'audit');
  const dir = path.join(auditDir, opts.instance);
  mkdirSync(dir, { recursive: true });
  lock(dir, opts.instance);
  const signer = checkpointSigner(opts.dataDir);
  const segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
  const state = recover(dir, opts.log);
  const stats: StoreStats = { appends: 0, records: 0, syncs: 0 };

  let fh: FileHandle | null = null;
  let fhStat: Stats | null = null;

  let sinceCheckpoint = 0;
  let lastCheckpoint = Date.now();
  let healthy = true;

  const segmentPath = (): string => path.join(dir, segmentName(state.segment));

  // Re-opens the segment when it is not open or when someone moved the file or directory away.
  const ensureOpen = async (): Promise<FileHandle> => {
    if (fh !== null && fhStat !== null) {
      const now = await stat(segmentPath()).catch(() => null);
      if (now !== null && now.ino === fhStat.ino && now.dev === fhStat.dev) return fh;
      await fh.close().catch(() => undefined);
      fh = null;
    }
    mkdirSync(dir, { recursive: true });
    const handle = await open(segmentPath(), 'a');
    fhStat = await handle.stat();
    state.size = fhStat.size;
    fh = handle;
    return handle;
  };

  const writeCheckpoint = async (): Promise<void> => {
    if (state.seq === 0) return;
    const c: Checkpoint = signer.sign(opts.instance, state.seq, state.hash);
    const cf = await open(path.join(dir, 'checkpoints.jsonl'), 'a');
    try {
      await cf.write(`${JSON.stringify(c)}\n`);
      await cf.datasync();
    } finally {
      await cf.close();
    }
    sinceCheckpoint = 0;
    lastCheckpoint = Date.now();
  };

  // One write and one fdatasync for every request queued while the previous one was in flight.
  const commit = async (batch: readonly (readonly AuditEntry[])[]): Promise<void> => {
    const start = { seq: state.seq, hash: state.hash, size: state.size };
    try {
      const handle = await ensureOpen();
      const lines: string[] = [];
      let seq = state.seq;
      let prev = state.hash;
      for (const entries of batch) {
        for (const e of entries) {
          seq++;
          const { line, hash } = chainLine(e, opts.instance, seq, prev);
          lines.push(line);
          prev = hash;
        }
      }
      const buf = Buffer.from(`${lines.join('\n')}\n`);
      await handle.write(buf, 0, buf.length);
      await handle.datasync();
      stats.syncs++;
      stats.records += seq - state.seq;
      sinceCheckpoint += seq - state.seq;
      state.seq = seq;
      state.hash = prev;
      state.size += buf.length;
      if (!healthy) {
        healthy = true;
        opts.log.info(`audit: file store writable again (${opts.instance})`);
      }
    } catch (e) {
      // Nothing of this batch counts: cut the segment back and keep the chain where it was.
      state.seq = start.seq;
      state.hash = start.hash;
      if (fh !== null) {
        await fh.truncate(start.size).catch(() => undefined);
        await fh.close().catch(() => undefined);
        fh = null;
      }
      if (healthy) opts.log.warn(`audit: file store cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); failing closed until it can`);
      healthy = false;
      throw new AuditUnavailableError(`audit file store unavailable: ${(e as NodeJS.ErrnoException).code ?? 'write failed'}`);
    }
    // Durable now; rotation and checkpoints follow and never fail the requests already written.
    try {
      if (state.size >= segmentBytes) {
        await writeCheckpoint();
        await fh?.close();
        fh = null;
        state.segment++;
        state.size = 0;
      } else if (sinceCheckpoint >= CHECKPOINT_EVERY || Date.now() - lastCheckpoint >= CHECKPOINT_MS) {
        await writeCheckpoint();
      }
    } catch (e) {
      opts.log.warn(`audit: checkpoint or rotation failed: ${(e as Error).message}`);
    }
  };
  const committer = groupCommitter(commit);

  return {
    kind: 'file',
    stats: () => ({ ...stats }),
    // The last write succeeded and the directory (or, if someone removed it, its parent) still takes writes.
    writable: () => healthy && (canWrite(dir) || (!existsSync(dir) && canWrite(auditDir))),
    append(entries) {
      if (entries.length === 0) return Promise.resolve();
      stats.appends++;
      return committer.add(entries);
    },
    async query(filter: AuditFilter, page) {
      return filterRecords(readFileRecords(auditDir), filter, page);
    },
    async close() {
      await committer.drain();
      if (fh !== null) {
        await writeCheckpoint().catch(() => undefined);
        await fh.close();
        fh = null;
      }
    },
  };
}
