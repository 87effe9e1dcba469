import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * The grants and confidentiality agreements filed with the authority, and with Redis
 * the policy revision every gateway runs. The sharing workflow writes grants and agreements; every
 * gateway reads them and follows changes incrementally. History is append-only: a revocation is a
 * new entry, nothing is rewritten.
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

/** An access suspension: the agency reads none of another agency's data in the dataset (or '*') while in force. */
export interface Suspension {
  readonly id: string;
  readonly agency: string;
  /** A dataset id, or '*' for every dataset. */
  readonly dataset: string;
  /** ISO date-times; in force from `from` until (excluding) `until`. */
  readonly from: string;
  readonly until: string;
  readonly reason: string;
}

/**
 * A policy directory's texts as one gateway instance published them (with REDIS_URL), so that a
 * policy change picked up by any instance is applied by all.
 */
export interface PolicyRevision {
  /** sha256 of the texts: equal texts, equal id. */
  readonly id: string;
  /** The instance that published it. */
  readonly by: string;
  readonly at: string;
  /** model.conf and every *.csv, by file name. */
  readonly texts: Readonly<Record<string, string>>;
}

export type GrantChange =
  | { readonly op: 'policy'; readonly revision: PolicyRevision }
  | { readonly op: 'grant'; readonly grant: Grant }
  | { readonly op: 'revoke-grant'; readonly id: string; readonly reason: string }
  | { readonly op: 'agreement'; readonly agreement: Agreement }
  | { readonly op: 'revoke-agreement'; readonly id: string; readonly reason: string }
  | { readonly op: 'suspension'; readonly suspension: Suspension }
  | { readonly op: 'lift-suspension'; readonly id: string; readonly reason: string };

export interface GrantSnapshot {
  readonly grants: ReadonlyMap<string, Grant>;
  readonly agreements: ReadonlyMap<string, Agreement>;
  readonly suspensions: ReadonlyMap<string, Suspension>;
  /** The newest published policy revision, if any. */
  readonly policy: PolicyRevision | null;
}

export interface GrantStore {
  readonly kind: 'file' | 'redis';
  /** Durable when it resolves, and already folded into this process's `snapshot()`; every subscriber (in any process) sees it shortly after. */
  apply(change: GrantChange): Promise<void>;
  /** Every change made so far, folded. Callers must not keep it across awaits expecting it fixed: it is live. */
  snapshot(): Promise<GrantSnapshot>;
  /**
   * Changes folded after the call, in log order, each exactly once. Taken in the same tick as the
   * `snapshot()` it follows, nothing falls between the two: both come from one reader of the log.
   */
  subscribe(listener: (change: GrantChange) => void): () => void;
  close(): Promise<void>;
}

export function fold(snapshot: { grants: Map<string, Grant>; agreements: Map<string, Agreement>; suspensions: Map<string, Suspension>; policy: PolicyRevision | null }, change: GrantChange): void {
  switch (change.op) {
    case 'policy':
      snapshot.policy = change.revision;
      return;
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
    case 'suspension':
      snapshot.suspensions.set(change.suspension.id, change.suspension);
      return;
    case 'lift-suspension':
      snapshot.suspensions.delete(change.id);
      return;
  }
}

export interface GrantStoreOptions {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix?: string;
  /** Told when the log cannot be read (once per distinct problem); reading is retried. */
  readonly log?: (line: string) => void;
}

export async function openGrantStore(opts: GrantStoreOptions): Promise<GrantStore> {
  let last = '';
  const onError = (e: Error): void => {
    if (e.message === last) return;
    last = e.message;
    (opts.log ?? ((l) => process.stderr.write(`${l}\n`)))(`grant store: cannot read changes, retrying: ${e.message}`);
  };
  return opts.redisUrl === null ? fileGrantStore(opts.dataDir, onError) : redisGrantStore(opts.redisUrl, opts.redisPrefix ?? 'exchange:', onError);
}

/**
 * One reader of an append-only change log: it folds every entry into the state, then tells the
 * listeners, so the state and the notifications can never disagree. Whatever wakes it (a file
 * event, a Redis message, a reconnect, a poll), it reads from where it stopped, so a lost wake-up
 * delays a change but never drops it.
 */
function follower(readFrom: (offset: number) => Promise<{ changes: GrantChange[]; next: number }>, onError: (e: Error) => void) {
  const state = { grants: new Map<string, Grant>(), agreements: new Map<string, Agreement>(), suspensions: new Map<string, Suspension>(), policy: null as PolicyRevision | null };
  const listeners = new Set<(c: GrantChange) => void>();
  let offset = 0;
  let reading: Promise<void> | null = null;
  let again = false;
  const pump = (): Promise<void> => {
    if (reading !== null) {
      again = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          again = false;
          const { changes, next } = await readFrom(offset);
          offset = next;
          for (const change of changes) {
            fold(state, change);
            for (const l of listeners) l(change);
          }
        } while (again);
      } catch (e) {
        onError(e as Error);
      } finally {
        // In the same turn as the last `again` check: a later pump starts a read of its own.
        reading = null;
      }
    })();
    return reading;
  };
  return {
    state,
    pump,
    /** Resolves once everything in the log when called is folded. */
    sync: pump,
    subscribe(listener: (c: GrantChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clear: () => listeners.clear(),
  };
}

const POLL_MS = 250;

/**
 * Embedded: one JSON-lines file under DATA_DIR/policy, appended with fsync. Readers in other
 * processes follow it from their last offset (fs.watch, with a short stat poll as a fallback for
 * file systems that drop events), so a change reaches every gateway within a second.
 */
async function fileGrantStore(dataDir: string, onError: (e: Error) => void): Promise<GrantStore> {
  const dir = path.join(dataDir, 'policy');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'grants.jsonl');
  const log = follower(async (offset) => {
    const size = await stat(file).then((s) => s.size, () => 0);
    if (size <= offset) return { changes: [], next: offset };
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      await fh.read(buf, 0, buf.length, offset);
      // A torn final line (a crash mid-append) was never acknowledged: it waits for its newline.
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return { changes: [], next: offset };
      const lines = buf.subarray(0, end).toString('utf8').split('\n').filter((l) => l !== '');
      return { changes: lines.map((l) => JSON.parse(l) as GrantChange), next: offset + end + 1 };
    } finally {
      await fh.close();
    }
  }, onError);
  await log.sync();
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, () => void log.pump());
  } catch {
    watcher = null;
  }
  const poll = setInterval(() => void log.pump(), POLL_MS);
  poll.unref();

  let tail: Promise<unknown> = Promise.resolve();
  return {
    kind: 'file',
    async apply(change) {
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
      await next;
      await log.sync();
    },
    async snapshot() {
      await log.sync();
      return log.state;
    },
    subscribe: log.subscribe,
    async close() {
      clearInterval(poll);
      watcher?.close();
      log.clear();
      await tail;
    },
  };
}

/**
 * With Redis: the history is a list (durable order). Each change is announced on a channel every
 * gateway subscribes to; an instance then reads the list from where it stopped, so a message lost
 * while its connection was down is made up on reconnect or at the next poll, never skipped.
 */
async function redisGrantStore(url: string, prefix: string, onError: (e: Error) => void): Promise<GrantStore> {
  const logKey = `${prefix}grants:log`;
  const channel = `${prefix}grants:changes`;
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, connectionName: `${prefix}grants-follower` });
  redis.on('error', () => undefined);
  sub.on('error', () => undefined);
  await redis.connect();
  await sub.connect();
  const log = follower(async (offset) => {
    const lines = await redis.lrange(logKey, offset, -1);
    return { changes: lines.map((l) => JSON.parse(l) as GrantChange), next: offset + lines.length };
  }, onError);
  sub.on('message', (ch: string) => {
    if (ch === channel) void log.pump();
  });
  // After a reconnect the subscription is back (ioredis re-subscribes), but what was published
  // meanwhile was not delivered: read it from the list.
  sub.on('ready', () => void log.pump());
  await sub.subscribe(channel);
  await log.sync();
  const poll = setInterval(() => void log.pump(), 1000);
  poll.unref();
  return {
    kind: 'redis',
    async apply(change) {
      const text = JSON.stringify(change);
      await redis.multi().rpush(logKey, text).publish(channel, text).exec();
      await log.sync();
    },
    async snapshot() {
      await log.sync();
      return log.state;
    },
    subscribe: log.subscribe,
    async close() {
      clearInterval(poll);
      log.clear();
      sub.disconnect();
      redis.disconnect();
    },
  };
}
