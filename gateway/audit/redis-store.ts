import { Redis } from 'ioredis';
import { chainLine, GENESIS, type AuditEntry, type AuditRecord } from './record.ts';
import { groupCommitter } from './group-commit.ts';
import { AuditUnavailableError, filterRecords, type AuditStore, type StoreLog, type StoreStats } from './store-types.ts';

/**
 * One Redis stream for every instance; each group commit is one MULTI (XADDs plus this
 * instance's chain head), so the head and the records move together and a restart continues the
 * chain. No offline queue: when Redis is down the append fails at once and the request fails closed.
 */
export async function openRedisAuditStore(opts: { url: string; prefix: string; instance: string; log: StoreLog }): Promise<AuditStore> {
  const stream = `${opts.prefix}audit`;
  const headKey = `${opts.prefix}audit:head:${opts.instance}`;
  const redis = new Redis(opts.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000, retryStrategy: () => 250 });
  let healthy = true;
  redis.on('error', () => undefined);
  redis.on('ready', () => {
    if (!healthy) opts.log.info(`audit: Redis store reachable again (${opts.instance})`);
  });
  await redis.connect();
  const head = await redis.get(headKey);
  const state = head === null ? { seq: 0, hash: GENESIS } : (JSON.parse(head) as { seq: number; hash: string });
  const stats: StoreStats = { appends: 0, records: 0, syncs: 0 };
  // One MULTI for every request queued while the previous one was in flight.
  const commit = async (batch: readonly (readonly AuditEntry[])[]): Promise<void> => {
    let seq = state.seq;
    let prev = state.hash;
    const multi = redis.multi();
    for (const entries of batch) {
      for (const e of entries) {
        seq++;
        const { line, hash } = chainLine(e, opts.instance, seq, prev);
        multi.xadd(stream, '*', 'r', line);
        prev = hash;
      }
    }
    multi.set(headKey, JSON.stringify({ seq, hash: prev }));
    try {
      const results = await multi.exec();
      if (results === null || results.some(([err]) => err !== null)) throw new Error('transaction failed');
    } catch (e) {
      if (healthy) opts.log.warn(`audit: Redis store unavailable (${(e as Error).message}); failing closed until it is back`);
      healthy = false;
      // The head may have moved if the transaction was applied before the connection broke.
      await resync();
      throw new AuditUnavailableError(`audit Redis store unavailable: ${(e as Error).message}`);
    }
    stats.records += seq - state.seq;
    stats.syncs++;
    state.seq = seq;
    state.hash = prev;
    healthy = true;
  };
  const resync = async (): Promise<void> => {
    try {
      const h = await redis.get(headKey);
      if (h !== null) Object.assign(state, JSON.parse(h) as { seq: number; hash: string });
    } catch {
      // still down; the next append tries again
    }
  };
  const committer = groupCommitter(commit);

  return {
    kind: 'redis',
    stats: () => ({ ...stats }),
    writable: () => healthy && redis.status === 'ready',
    append(entries) {
      if (entries.length === 0) return Promise.resolve();
      stats.appends++;
      return committer.add(entries);
    },
    async query(filter, page) {
      const all = (await redis.xrange(stream, '-', '+')).map(([, fields]) => JSON.parse(fields[1] ?? 'null') as AuditRecord);
      return filterRecords(all, filter, page);
    },
    async close() {
      await committer.drain();
      redis.disconnect();
    },
  };
}

export async function readRedisRecords(url: string, prefix: string): Promise<AuditRecord[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return (await redis.xrange(`${prefix}audit`, '-', '+')).map(([, fields]) => JSON.parse(fields[1] ?? 'null') as AuditRecord);
  } finally {
    redis.disconnect();
  }
}
