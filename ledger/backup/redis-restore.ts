import { Redis } from 'ioredis';
import { redisKeys } from '../log/redis-log.ts';

export interface RestoredChain {
  readonly log: string;
  readonly chain: string;
  /** The records in order, in batches (each record's stream entry id is its seq). */
  batches(): AsyncIterable<readonly { readonly seq: number; readonly line: string }[]>;
  readonly seq: number;
  readonly hash: string;
}

function client(url: string): Redis {
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, enableOfflineQueue: false });
}

/** Whether any key starts with the prefix (a restore writes only into an empty prefix). */
export async function redisPrefixInUse(url: string, prefix: string): Promise<boolean> {
  const redis = client(url);
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      if (keys.length > 0) return true;
      cursor = next;
      if (cursor === '0') return false;
    }
    return true;
  } finally {
    redis.disconnect();
  }
}

/**
 * Writes restored chains as the Redis store keeps them (stream entry `<seq>-0` per record, the
 * head key, the chain set), so a started exchange continues each chain from its restored head.
 * On any failure the keys written so far are deleted again: the prefix is left empty.
 */
export async function writeRedisChains(url: string, prefix: string, chains: readonly RestoredChain[]): Promise<void> {
  const redis = client(url);
  redis.on('error', () => undefined);
  const written: string[] = [];
  try {
    await redis.connect();
    for (const c of chains) {
      const keys = redisKeys(prefix, c.log, c.chain);
      written.push(keys.stream, keys.head, keys.chains);
      for await (const batch of c.batches()) {
        const p = redis.pipeline();
        for (const r of batch) p.xadd(keys.stream, `${r.seq}-0`, 'r', r.line);
        const results = (await p.exec()) ?? [];
        const failed = results.find(([e]) => e !== null);
        if (failed !== undefined) throw failed[0]!;
      }
      if (c.seq > 0) await redis.set(keys.head, `${c.seq}:${c.hash}`);
      await redis.sadd(keys.chains, c.chain);
    }
  } catch (e) {
    if (written.length > 0) await redis.del(...new Set(written)).catch(() => undefined);
    throw e;
  } finally {
    redis.disconnect();
  }
}
