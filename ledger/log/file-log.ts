import { accessSync, constants, statSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink, rm, stat, symlink, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { chainBatch, EMPTY_HEAD, type ChainHead, type LogRecord } from './chain.ts';
import { groupCommitter } from './group-commit.ts';
import { LogConflictError, LogUnavailableError, type LogReader, type LogSink, type LogStats, type LogWriter } from './log.ts';
import type { LogKey } from './log-key.ts';
import { readWitness, writerTrust } from './witness.ts';

/**
 * The file backend: DATA_DIR/<log>/<chain>/NNNNNN.jsonl segments of JSON lines, one record a line.
 *
 * The one torn-line rule: a last line without its newline was never acknowledged (the write that
 * made it never returned); readers stop before it, and the next writer moves it to a `.torn-<time>`
 * file beside the segment, reports it, and continues the chain from the last whole record.
 */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

const SEGMENT = /^\d{6}\.jsonl$/;

/**
 * Segments are opened for appending ('a+') with O_DSYNC where the platform has it: each write then
 * returns only once its data is as durable as after fdatasync, in one trip through the thread
 * pool instead of two (write, then fdatasync) per group commit.
 */
const SYNCED_WRITES = constants.O_DSYNC !== undefined;
const SEGMENT_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | (constants.O_DSYNC ?? 0);
const TAIL = /"seq":(\d+),"prev":"[0-9a-f]{64}"(?:,"from":\d+,"sig":"[A-Za-z0-9+/=]+")?,"hash":"([0-9a-f]{64})"\}$/;

export function chainDir(dataDir: string, log: string, chain: string): string {
  return path.join(dataDir, log, encodeURIComponent(chain));
}

function segmentName(n: number): string {
  return `${String(n).padStart(6, '0')}.jsonl`;
}

export async function segmentsOf(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => SEGMENT.test(f)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** seq and hash of a stored line, read from its tail (no full parse). */
export function tailOf(line: string): ChainHead | null {
  const m = TAIL.exec(line);
  return m === null ? null : { seq: Number(m[1]), hash: m[2]! };
}

/** The last whole line of a file of `size` bytes that ends with a newline, or null when empty. */
async function lastLine(fh: FileHandle, size: number): Promise<string | null> {
  if (size === 0) return null;
  const chunks: Buffer[] = [];
  // From just before the final newline backwards to the newline before it.
  for (let pos = size - 1; pos > 0; ) {
    const from = Math.max(0, pos - 65536);
    const buf = Buffer.alloc(pos - from);
    await fh.read(buf, 0, buf.length, from);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) {
      chunks.unshift(buf.subarray(nl + 1));
      return Buffer.concat(chunks).toString('utf8');
    }
    chunks.unshift(buf);
    pos = from;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The inode of `file`, or null when it cannot be looked at (gone, or its directory replaced). */
function segmentIno(file: string): number | null {
  try {
    return statSync(file, { throwIfNoEntry: false })?.ino ?? null;
  } catch {
    return null;
  }
}

/** A cheap check for /health, never on the append path. */
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

// Writers of one chain inside this process take turns here before taking the cross-process lock.
const turns = new Map<string, Promise<unknown>>();
const exclusiveOwners = new Set<string>();

function inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = turns.get(key) ?? Promise.resolve();
  const mine = before.then(fn, fn);
  const settled = mine.then(
    () => undefined,
    () => undefined,
  );
  turns.set(key, settled);
  void settled.then(() => {
    if (turns.get(key) === settled) turns.delete(key);
  });
  return mine;
}

/**
 * The cross-process append lock of a shared chain: a symlink whose target is the owner's pid
 * (creating a symlink is atomic, and one call both takes the lock and names the owner). A lock
 * whose owner died (kill -9 mid-append) is removed by one process at a time, under a second
 * symlink lock: without it, two processes that both saw the dead owner could each remove "the"
 * lock, the second removing the live lock the first had just taken, and append side by side.
 * Only a dead owner's lock is ever removed by another process, so the lock cannot change between
 * the check and the removal. The guard is held for a readlink and an unlink; a guard left by a
 * process killed in between is removed the same way once its owner is dead.
 */
async function withAppendLock<T>(dir: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const lock = path.join(dir, 'append.lock');
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    try {
      await symlink(String(process.pid), lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        await mkdir(dir, { recursive: true });
        continue;
      }
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(await readlink(lock).catch(() => '0'));
      if (owner > 0 && owner !== process.pid && !pidAlive(owner)) {
        if (await removeDeadLock(lock, owner)) continue;
      }
      if (Date.now() > deadline) throw new LogUnavailableError(`the append lock of ${path.basename(dir)} is held by process ${owner || 'unknown'}`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock);
  }
}

/**
 * Removes `lock` if it still names the dead `owner`, holding the takeover guard while it looks;
 * false when another process holds the guard (the caller waits and tries again).
 */
async function removeDeadLock(lock: string, owner: number): Promise<boolean> {
  const guard = `${lock}.takeover`;
  try {
    await symlink(String(process.pid), guard);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const holder = Number(await readlink(guard).catch(() => '0'));
    // Someone else is taking over; a guard whose holder died is cleared for the next try.
    if (holder > 0 && holder !== process.pid && !pidAlive(holder)) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    if (Number(await readlink(lock).catch(() => '0')) === owner) await unlink(lock).catch(() => undefined);
  } finally {
    await unlink(guard);
  }
  return true;
}

/** Claims a chain for this process's lifetime (the access log: one gateway instance, one chain). */
async function claim(dir: string, chain: string): Promise<void> {
  const file = path.join(dir, 'lock');
  const pid = Number(await readFile(file, 'utf8').catch(() => '0'));
  if (pid !== process.pid && pid > 0 && pidAlive(pid)) {
    throw new Error(`chain "${chain}" is in use by process ${pid}; give each gateway its own INSTANCE_ID`);
  }
  await writeFile(file, String(process.pid));
}

export interface FileLogOptions {
  readonly dataDir: string;
  readonly log: string;
  readonly chain: string;
  /**
   * `exclusive`: this process is the chain's only writer for its lifetime (the access log).
   * `shared`: any process may append; each write takes the chain's append lock and continues from
   * whatever the chain holds then (the ledger).
   */
  readonly mode: 'exclusive' | 'shared';
  readonly sink: LogSink;
  readonly segmentBytes?: number;
  readonly witnessEveryMs?: number;
  /** Signs each group commit (LOG_SIGNING_KEY); default: the development key of dataDir. */
  readonly key?: LogKey;
  /** WITNESS_URLS: off-host witnesses that countersign this chain's heads. */
  readonly witnessUrls?: readonly string[];
}

export async function openFileLog(opts: FileLogOptions): Promise<LogWriter> {
  const dir = chainDir(opts.dataDir, opts.log, opts.chain);
  await mkdir(dir, { recursive: true });
  const key = path.resolve(dir);
  if (opts.mode === 'exclusive') {
    if (exclusiveOwners.has(key)) throw new Error(`chain "${opts.chain}" of the ${opts.log} log is already open in this process`);
    await claim(dir, opts.chain);
    exclusiveOwners.add(key);
  }
  const segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
  const { seal, wit } = writerTrust({ dataDir: opts.dataDir, log: opts.log, chain: opts.chain, warn: (l) => opts.sink.warn(l), ...(opts.key !== undefined ? { key: opts.key } : {}), ...(opts.witnessEveryMs !== undefined ? { witnessEveryMs: opts.witnessEveryMs } : {}), ...(opts.witnessUrls !== undefined ? { witnessUrls: opts.witnessUrls } : {}) });
  const stats: LogStats = { appends: 0, records: 0, syncs: 0 };
  let head: ChainHead = EMPTY_HEAD;
  let healthy = true;
  // The open segment and what this writer knows of it.
  let fh: FileHandle | null = null;
  let at = { segment: 0, ino: -1, size: 0 };

  const close = async (): Promise<void> => {
    if (fh !== null) await fh.close().catch(() => undefined);
    fh = null;
  };

  /**
   * Brings this writer up to where the chain really ends: the newest segment, a torn tail set
   * aside, the head read from the last whole record. Cheap when nothing changed (one stat).
   */
  const refresh = async (): Promise<void> => {
    const segments = await segmentsOf(dir);
    const name = segments.length === 0 ? segmentName(1) : segments[segments.length - 1]!;
    const segment = Number(name.slice(0, 6));
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => null);
    if (fh !== null && st !== null && segment === at.segment && st.ino === at.ino && st.size === at.size) return;
    await close();
    const handle = await open(file, SEGMENT_FLAGS);
    let size = (await handle.stat()).size;
    // The torn-line rule.
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        const whole = await lastWholeEnd(handle, size);
        const torn = Buffer.alloc(size - whole);
        await handle.read(torn, 0, torn.length, whole);
        const tornFile = `${file}.torn-${Date.now()}`;
        await writeFile(tornFile, torn);
        await handle.truncate(whole);
        await handle.datasync();
        opts.sink.warn(`${opts.log}: torn last line in ${opts.chain}/${name} (${torn.length} bytes after the last whole record) moved to ${path.basename(tornFile)}; the chain continues from the last whole record`);
        size = whole;
      }
    }
    fh = handle;
    at = { segment, ino: (await handle.stat()).ino, size };
    head = await headOf(segments, handle, size);
  };

  // The newest whole record: in the open segment, or in an earlier one if it is empty.
  const headOf = async (segments: readonly string[], handle: FileHandle, size: number): Promise<ChainHead> => {
    const line = await lastLine(handle, size);
    if (line !== null) return tailOf(line) ?? head;
    for (let i = segments.length - 2; i >= 0; i--) {
      const h = await open(path.join(dir, segments[i]!), 'r');
      try {
        const l = await lastLine(h, (await h.stat()).size);
        if (l !== null) return tailOf(l) ?? head;
      } finally {
        await h.close();
      }
    }
    return EMPTY_HEAD;
  };

  const write = async (batch: readonly (readonly string[])[], ifHeadSeq?: number): Promise<number[]> => {
    if (opts.mode === 'shared' || fh === null) await refresh();
    else {
      // Exclusive: reopen only if someone moved the segment away. A synchronous stat (one system
      // call, no Stats of its own for a missing file) costs less on this path than a trip through
      // the thread pool.
      if (segmentIno(path.join(dir, segmentName(at.segment))) !== at.ino) {
        await close();
        await refresh();
      }
    }
    if (ifHeadSeq !== undefined && head.seq !== ifHeadSeq) throw new LogConflictError(head.seq);
    if (at.size >= segmentBytes) {
      await close();
      const next = path.join(dir, segmentName(at.segment + 1));
      fh = await open(next, SEGMENT_FLAGS);
      at = { segment: at.segment + 1, ino: (await fh.stat()).ino, size: 0 };
    }
    const start = { head, size: at.size };
    const { lines, firsts, head: next } = chainBatch(batch, opts.chain, head, seal);
    const buf = Buffer.from(`${lines.join('\n')}\n`);
    try {
      await fh!.write(buf, 0, buf.length, at.size);
      if (!SYNCED_WRITES) await fh!.datasync();
    } catch (e) {
      // Nothing of this batch counts: cut the segment back so the chain stays where it was.
      await fh?.truncate(start.size).catch(() => undefined);
      await close();
      head = start.head;
      throw e;
    }
    stats.syncs++;
    stats.records += next.seq - start.head.seq;
    head = next;
    at = { ...at, size: at.size + buf.length };
    wit.moved(head);
    return firsts;
  };

  const commit = async (batch: readonly (readonly string[])[], ifHeadSeq?: number): Promise<number[]> => {
    try {
      const firsts = await inTurn(key, () => (opts.mode === 'shared' ? withAppendLock(dir, () => write(batch, ifHeadSeq), 5000) : write(batch, ifHeadSeq)));
      if (!healthy) opts.sink.info(`${opts.log}: chain ${opts.chain} writable again`);
      healthy = true;
      return firsts;
    } catch (e) {
      if (e instanceof LogConflictError) throw e;
      if (healthy) opts.sink.warn(`${opts.log}: cannot write chain ${opts.chain} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); failing closed until it can`);
      healthy = false;
      throw new LogUnavailableError(`${opts.log} unavailable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const committer = groupCommitter<readonly string[], number>((batch) => commit(batch));

  await inTurn(key, () => (opts.mode === 'shared' ? withAppendLock(dir, refresh, 5000) : refresh()));
  const witnessed = readWitness(opts.dataDir, opts.log, opts.chain);
  if (witnessed !== null && witnessed.seq > head.seq) {
    opts.sink.warn(`${opts.log}: chain ${opts.chain} ends at seq ${head.seq} but its witness (${witnessed.ts}) saw seq ${witnessed.seq}: records were lost or removed; audit verify will name them`);
  }
  wit.moved(head);

  return {
    kind: 'file',
    log: opts.log,
    chain: opts.chain,
    append(bodies) {
      stats.appends++;
      return committer.add(bodies);
    },
    async appendIf(bodies, headSeq) {
      stats.appends++;
      return (await commit([bodies], headSeq))[0]!;
    },
    head: () => head,
    writable: () => healthy && canWrite(dir),
    stats: () => ({ ...stats }),
    async close() {
      await committer.drain();
      await wit.close();
      await inTurn(key, close);
      if (opts.mode === 'exclusive') {
        exclusiveOwners.delete(key);
        await rm(path.join(dir, 'lock'), { force: true });
      }
    },
  };
}

/** The end of the last whole line (just after its newline) in a file whose tail is torn. */
async function lastWholeEnd(fh: FileHandle, size: number): Promise<number> {
  for (let pos = size; pos > 0; ) {
    const from = Math.max(0, pos - 65536);
    const buf = Buffer.alloc(pos - from);
    await fh.read(buf, 0, buf.length, from);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) return from + nl + 1;
    pos = from;
  }
  return 0;
}

/** The seq of a segment's first record (infinity when empty), or null when its first line is not a whole chained record. */
async function firstSeq(file: string): Promise<number | null> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    // An empty segment (just made by a rotation) holds nothing yet: it starts after everything before it.
    if (bytesRead === 0) return Number.POSITIVE_INFINITY;
    const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
    return nl < 0 ? null : (tailOf(buf.toString('utf8', 0, nl))?.seq ?? null);
  } finally {
    await fh.close();
  }
}

/**
 * Where a read of the records after `after` starts without a cursor: the last segment whose first
 * record is at or before after + 1 (segments hold ascending seqs), found by bisection on each
 * segment's first line, so reading the end of a long chain (an incremental backup, a follower
 * resuming) does not read it from the start. Null (read from the first segment) when a first line
 * cannot be read as a record.
 */
async function seekSegment(dir: string, segments: readonly string[], after: number): Promise<{ segment: string; offset: number; seq: number; lineNo: number } | null> {
  let lo = 0;
  let hi = segments.length - 1;
  let found: { segment: string; seq: number } | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const seq = await firstSeq(path.join(dir, segments[mid]!)).catch(() => null);
    if (seq === null) return null;
    if (seq <= after + 1) {
      found = { segment: segments[mid]!, seq: seq - 1 };
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found === null ? null : { segment: found.segment, offset: 0, seq: found.seq, lineNo: 0 };
}

/**
 * Reads chains of a file log. Each chain keeps a cursor (segment, byte offset, seq), so a
 * follower that reads on from where it stopped touches only the new bytes.
 */
export function fileLogReader(dataDir: string, log: string, opts: { pollMs?: number } = {}): LogReader {
  const root = path.join(dataDir, log);
  const cursors = new Map<string, { segment: string; offset: number; seq: number; lineNo: number }>();
  const watchers = new Set<() => void>();
  return {
    kind: 'file',
    log,
    async chains() {
      try {
        return (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => decodeURIComponent(d.name)).sort();
      } catch {
        return [];
      }
    },
    async read(chain, after, limit) {
      const dir = chainDir(dataDir, log, chain);
      const segments = await segmentsOf(dir);
      let cur: { segment: string; offset: number; seq: number; lineNo: number } | undefined = cursors.get(chain);
      if (cur === undefined || cur.seq !== after || !segments.includes(cur.segment)) cur = (after > 0 ? await seekSegment(dir, segments, after) : null) ?? { segment: segments[0] ?? '', offset: 0, seq: 0, lineNo: 0 };
      const out: LogRecord[] = [];
      for (let i = segments.indexOf(cur.segment); i >= 0 && i < segments.length && out.length < limit; i++) {
        const name = segments[i]!;
        const offset: number = name === cur.segment ? cur.offset : 0;
        let lineNo: number = name === cur.segment ? cur.lineNo : 0;
        const fh = await open(path.join(dir, name), 'r');
        let buf: Buffer;
        try {
          const size = (await fh.stat()).size;
          buf = Buffer.alloc(Math.max(0, size - offset));
          await fh.read(buf, 0, buf.length, offset);
        } finally {
          await fh.close();
        }
        let pos = 0;
        while (out.length < limit) {
          const nl = buf.indexOf(0x0a, pos);
          if (nl < 0) break; // a torn or still-being-written last line waits for its newline
          const line = buf.toString('utf8', pos, nl);
          pos = nl + 1;
          lineNo++;
          const t = tailOf(line);
          const seq: number = t?.seq ?? cur.seq + 1;
          cur = { segment: name, offset: offset + pos, seq, lineNo };
          if (seq > after) out.push({ chain, seq, hash: t?.hash ?? '', line, where: `${log}/${chain}/${name}:${lineNo}` });
        }
        if (out.length >= limit || pos < buf.length) break;
        cur = { segment: name, offset: offset + pos, seq: cur.seq, lineNo };
      }
      cursors.set(chain, cur);
      return out;
    },
    watch(chain, wake) {
      const dir = chainDir(dataDir, log, chain);
      let watcher: FSWatcher | null = null;
      try {
        watcher = watch(dir, () => wake());
        watcher.on('error', () => undefined);
      } catch {
        watcher = null; // not there yet, or no inotify: the poll below still finds every change
      }
      // With a watcher, the poll is only a net for an event the kernel dropped; without one, it
      // is how changes are found.
      const poll = setInterval(wake, opts.pollMs ?? (watcher === null ? 250 : 2000));
      poll.unref();
      const stop = (): void => {
        clearInterval(poll);
        watcher?.close();
        watchers.delete(stop);
      };
      watchers.add(stop);
      return stop;
    },
    async close() {
      for (const stop of [...watchers]) stop();
    },
  };
}
