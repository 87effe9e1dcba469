import { randomBytes } from 'node:crypto';
import { openFileLog } from '../../ledger/log/file-log.ts';
import type { LogSink, LogWriter } from '../../ledger/log/log.ts';
import { logKey } from '../../ledger/log/log-key.ts';
import { openRedisLog } from '../../ledger/log/redis-log.ts';
import { auditBody, SALT_HEX } from './record.ts';
import { AuditUnavailableError, type AuditStore, type StoreLog } from './store-types.ts';
import { auditLogReader, pageAuditRecords, sealCheckOf } from '../../ledger/audit-reader.ts';

export type { AuditFilter, AuditStore, StoreStats } from './store-types.ts';
export { AuditUnavailableError } from './store-types.ts';

export const AUDIT_LOG = 'audit';

const quiet: StoreLog = { info() {}, warn() {} };

export interface AuditStoreOptions {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix?: string;
  /** This gateway's chain: one per instance. */
  readonly instance: string;
  readonly log?: StoreLog;
  readonly segmentBytes?: number;
  readonly witnessEveryMs?: number;
  /** LOG_SIGNING_KEY (PEM); null or absent: the development key. */
  readonly logSigningKey?: string | null;
  /** WITNESS_URLS. */
  readonly witnessUrls?: readonly string[];
}

/**
 * The access log: this gateway's chain of the append-only `audit` log (files under
 * DATA_DIR/audit/<instance>/, or the Redis stream <prefix>audit:<instance>). Nothing resolves
 * before its records are durable; a failed write rejects with AuditUnavailableError.
 */
export async function openAuditStore(opts: AuditStoreOptions): Promise<AuditStore> {
  const sink: LogSink = opts.log ?? quiet;
  const prefix = opts.redisPrefix ?? 'exchange:';
  const common = {
    log: AUDIT_LOG,
    chain: opts.instance,
    dataDir: opts.dataDir,
    sink,
    key: logKey(opts.dataDir, opts.logSigningKey ?? null),
    ...(opts.witnessUrls !== undefined ? { witnessUrls: opts.witnessUrls } : {}),
    ...(opts.witnessEveryMs !== undefined ? { witnessEveryMs: opts.witnessEveryMs } : {}),
  };
  const writer: LogWriter =
    opts.redisUrl === null
      ? await openFileLog({ ...common, mode: 'exclusive', ...(opts.segmentBytes !== undefined ? { segmentBytes: opts.segmentBytes } : {}) })
      : await openRedisLog({ ...common, url: opts.redisUrl, prefix });
  const at = { dataDir: opts.dataDir, redisUrl: opts.redisUrl, redisPrefix: prefix, logSigningKey: opts.logSigningKey ?? null };
  const reader = auditLogReader(at);
  const seals = sealCheckOf(at, (l) => sink.warn(l));
  const failed = (e: unknown): never => {
    throw e instanceof AuditUnavailableError ? e : new AuditUnavailableError((e as Error).message);
  };
  return {
    kind: writer.kind,
    append(entries) {
      if (entries.length === 0) return Promise.resolve();
      const bodies = new Array<string>(entries.length);
      // One draw from the CSPRNG for the whole request: each record gets its own slice of it.
      const salts = randomBytes((SALT_HEX / 2) * entries.length).toString('hex');
      for (let i = 0; i < entries.length; i++) bodies[i] = auditBody(entries[i]!, salts.slice(i * SALT_HEX, (i + 1) * SALT_HEX));
      return writer.append(bodies).then(() => undefined, failed);
    },
    async query(filter, page) {
      return pageAuditRecords(reader, filter, page, seals);
    },
    stats: () => writer.stats(),
    writable: () => writer.writable(),
    async close() {
      await writer.close();
      await reader.close();
    },
  };
}
