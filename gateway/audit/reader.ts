import path from 'node:path';
import { readFileRecords } from './file-store.ts';
import { readRedisRecords } from './redis-store.ts';
import { filterRecords, type AuditFilter } from './store-types.ts';

/** Reads the access log wherever this deployment keeps it, for the auditors' GraphQL fields. */
export function auditReader(opts: { dataDir: string; redisUrl: string | null; redisPrefix: string }) {
  return async (filter: AuditFilter, page: { first: number; after?: string }) => {
    const all = opts.redisUrl === null ? readFileRecords(path.join(opts.dataDir, 'audit')) : await readRedisRecords(opts.redisUrl, opts.redisPrefix);
    return filterRecords(all, filter, page);
  };
}
