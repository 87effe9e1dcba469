import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * The authority's durable record: every step of the catalog, freshness, confirmation and
 * sharing-request flows is one event, appended before the mutation answers. State is the fold of
 * the events, so nothing is ever updated in place and every history can be replayed.
 */
export interface ExchangeEvent {
  readonly seq: number;
  /** ISO time the event was recorded. */
  readonly at: string;
  /** e.g. "request.filed", "dataset.updated", "totals.confirmed". */
  readonly type: string;
  readonly actor: { readonly sub: string; readonly agency: string } | null;
  readonly data: Readonly<Record<string, unknown>>;
}

export type NewEvent = Omit<ExchangeEvent, 'seq' | 'at'> & { readonly at?: string };

export interface EventLog {
  readonly kind: 'file' | 'redis';
  /** Resolves once the event is durable (fsync'd, or acknowledged by Redis). */
  append(event: NewEvent): Promise<ExchangeEvent>;
  /** Every event in order. */
  readAll(): Promise<ExchangeEvent[]>;
  close(): Promise<void>;
}

export async function openEventLog(opts: { dataDir: string; redisUrl: string | null; prefix?: string }): Promise<EventLog> {
  return opts.redisUrl === null ? fileEventLog(opts.dataDir) : redisEventLog(opts.redisUrl, opts.prefix ?? 'exchange:');
}

function fileEventLog(dataDir: string): EventLog {
  const dir = path.join(dataDir, 'exchange');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'events.jsonl');
  const read = (): ExchangeEvent[] => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const events: ExchangeEvent[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      try {
        events.push(JSON.parse(line) as ExchangeEvent);
      } catch {
        // Only a torn final line (a crash mid-append) is tolerable; it was never acknowledged.
        if (i !== lines.length - 1) throw new Error(`exchange event log ${file} is corrupt at line ${i + 1}`);
      }
    }
    return events;
  };
  let seq = read().reduce((max, e) => Math.max(max, e.seq), 0);
  const fd = openSync(file, 'a');
  // Appends are serialised so seq order is file order.
  let tail: Promise<unknown> = Promise.resolve();
  return {
    kind: 'file',
    append(event) {
      const next = tail.then(() => {
        const full: ExchangeEvent = { seq: seq + 1, at: event.at ?? new Date().toISOString(), type: event.type, actor: event.actor, data: event.data };
        writeSync(fd, `${JSON.stringify(full)}\n`);
        fsyncSync(fd);
        seq = full.seq;
        return full;
      });
      tail = next.catch(() => undefined);
      return next;
    },
    async readAll() {
      await tail;
      return read();
    },
    async close() {
      await tail;
      closeSync(fd);
    },
  };
}

async function redisEventLog(url: string, prefix: string): Promise<EventLog> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // reported through the failing command instead
  await redis.connect();
  const key = `${prefix}exchange:events`;
  const seqKey = `${prefix}exchange:events:seq`;
  const parse = (entries: [string, string[]][]): ExchangeEvent[] =>
    entries.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as ExchangeEvent);
  return {
    kind: 'redis',
    async append(event) {
      const seq = await redis.incr(seqKey);
      const full: ExchangeEvent = { seq, at: event.at ?? new Date().toISOString(), type: event.type, actor: event.actor, data: event.data };
      await redis.xadd(key, '*', 'e', JSON.stringify(full));
      return full;
    },
    async readAll() {
      const events = parse(await redis.xrange(key, '-', '+'));
      return events.sort((a, b) => a.seq - b.seq);
    },
    async close() {
      redis.disconnect();
    },
  };
}
