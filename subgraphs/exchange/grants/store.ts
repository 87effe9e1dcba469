import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * The grants and confidentiality agreements filed with the authority. The sharing
 * workflow writes them; every gateway reads them and follows changes incrementally. History is
 * append-only: a revocation is a new entry, nothing is rewritten.
 */
export interface Grant {
  readonly id: string;
  readonly consumer: string;
  readonly dataset: string;
  readonly purposes: readonly string[];
  /** ISO date or date-time; the grant is in force from validFrom until (excluding) validUntil. */
  readonly validFrom: string;
  readonly validUntil: string;
  readonly conditions?: string | null;
  readonly requestId?: string | null;
}

export interface Agreement {
  readonly id: string;
  readonly parties: readonly [string, string];
  /** Dataset ids, or ['*'] for every dataset the two exchange. */
  readonly datasets: readonly string[];
  readonly signedOn: string;
  readonly validUntil: string;
  readonly documentRef: string;
  readonly filedWithSecrecyBureau: boolean;
}

export type GrantChange =
  | { readonly op: 'grant'; readonly grant: Grant }
  | { readonly op: 'revoke-grant'; readonly id: string; readonly reason: string }
  | { readonly op: 'agreement'; readonly agreement: Agreement }
  | { readonly op: 'revoke-agreement'; readonly id: string; readonly reason: string };

export interface GrantSnapshot {
  readonly grants: ReadonlyMap<string, Grant>;
  readonly agreements: ReadonlyMap<string, Agreement>;
}

export interface GrantStore {
  readonly kind: 'file' | 'redis';
  /** Durable when it resolves; every subscriber (in any process) sees it shortly after. */
  apply(change: GrantChange): Promise<void>;
  snapshot(): Promise<GrantSnapshot>;
  /** Changes made after the call, by any process. */
  subscribe(listener: (change: GrantChange) => void): () => void;
  close(): Promise<void>;
}

export function fold(snapshot: { grants: Map<string, Grant>; agreements: Map<string, Agreement> }, change: GrantChange): void {
  switch (change.op) {
    case 'grant':
      snapshot.grants.set(change.grant.id, change.grant);
      return;
    case 'revoke-grant':
      snapshot.grants.delete(change.id);
      return;
    case 'agreement':
      snapshot.agreements.set(change.agreement.id, change.agreement);
      return;
    case 'revoke-agreement':
      snapshot.agreements.delete(change.id);
      return;
  }
}

export async function openGrantStore(opts: { dataDir: string; redisUrl: string | null; redisPrefix?: string }): Promise<GrantStore> {
  return opts.redisUrl === null ? fileGrantStore(opts.dataDir) : redisGrantStore(opts.redisUrl, opts.redisPrefix ?? 'exchange:');
}

const POLL_MS = 250;

/**
 * Embedded: one JSON-lines file under DATA_DIR/policy, appended with fsync. Readers in other
 * processes follow it from their last offset (fs.watch, with a short stat poll as a fallback for
 * file systems that drop events), so a change reaches every gateway within a second.
 */
async function fileGrantStore(dataDir: string): Promise<GrantStore> {
  const dir = path.join(dataDir, 'policy');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'grants.jsonl');
  const listeners = new Set<(c: GrantChange) => void>();
  let offset = 0;
  let reading: Promise<void> | null = null;
  let again = false;

  const readNew = async (): Promise<GrantChange[]> => {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return [];
    }
    if (size <= offset) return [];
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      await fh.read(buf, 0, buf.length, offset);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return [];
      offset += end + 1;
      return buf.subarray(0, end).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as GrantChange);
    } finally {
      await fh.close();
    }
  };
  const pump = (): void => {
    if (reading !== null) {
      again = true;
      return;
    }
    reading = (async () => {
      do {
        again = false;
        for (const change of await readNew()) for (const l of listeners) l(change);
      } while (again);
    })()
      .catch(() => undefined)
      .finally(() => {
        reading = null;
      });
  };

  // Start following from the current end: snapshot() covers what is already there.
  offset = await stat(file).then((s) => s.size, () => 0);
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, () => pump());
  } catch {
    watcher = null;
  }
  const poll = setInterval(pump, POLL_MS);
  poll.unref();

  let tail: Promise<unknown> = Promise.resolve();
  return {
    kind: 'file',
    apply(change) {
      const next = tail.then(async () => {
        const fh = await open(file, 'a');
        try {
          await fh.write(`${JSON.stringify(change)}\n`);
          await fh.datasync();
        } finally {
          await fh.close();
        }
      });
      tail = next.catch(() => undefined);
      return next.then(() => pump());
    },
    async snapshot() {
      const snap = { grants: new Map<string, Grant>(), agreements: new Map<string, Agreement>() };
      let text = '';
      try {
        text = await readFile(file, 'utf8');
      } catch {
        return snap;
      }
      // A torn final line (crash mid-append) was never acknowledged; everything before it counts.
      const lines = text.split('\n');
      const complete = text.endsWith('\n') ? lines : lines.slice(0, -1);
      for (const l of complete) if (l !== '') fold(snap, JSON.parse(l) as GrantChange);
      return snap;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      clearInterval(poll);
      watcher?.close();
      listeners.clear();
      await tail;
    },
  };
}

/**
 * With Redis: the history is a list (durable order), and each change is published on a channel
 * every gateway subscribes to, so instances apply it incrementally without reloading.
 */
async function redisGrantStore(url: string, prefix: string): Promise<GrantStore> {
  const logKey = `${prefix}grants:log`;
  const channel = `${prefix}grants:changes`;
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  sub.on('error', () => undefined);
  await redis.connect();
  await sub.connect();
  const listeners = new Set<(c: GrantChange) => void>();
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const change = JSON.parse(message) as GrantChange;
    for (const l of listeners) l(change);
  });
  await sub.subscribe(channel);
  return {
    kind: 'redis',
    async apply(change) {
      const text = JSON.stringify(change);
      await redis.multi().rpush(logKey, text).publish(channel, text).exec();
    },
    async snapshot() {
      const snap = { grants: new Map<string, Grant>(), agreements: new Map<string, Agreement>() };
      for (const l of await redis.lrange(logKey, 0, -1)) fold(snap, JSON.parse(l) as GrantChange);
      return snap;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      sub.disconnect();
      redis.disconnect();
    },
  };
}
