import { openFileAuditStore } from './file-store.ts';
import { openRedisAuditStore } from './redis-store.ts';
import type { AuditStore, StoreLog } from './store-types.ts';

export type { AuditFilter, AuditStore, StoreStats } from './store-types.ts';
export { AuditUnavailableError } from './store-types.ts';

const quiet: StoreLog = { info() {}, warn() {} };

/** The embedded file store, or the Redis stream when REDIS_URL is set. */
export function openAuditStore(opts: { dataDir: string; redisUrl: string | null; redisPrefix?: string; instance: string; log?: StoreLog }): Promise<AuditStore> {
  const log = opts.log ?? quiet;
  return opts.redisUrl === null
    ? openFileAuditStore({ dataDir: opts.dataDir, instance: opts.instance, log })
    : openRedisAuditStore({ url: opts.redisUrl, prefix: opts.redisPrefix ?? 'exchange:', instance: opts.instance, log });
}
