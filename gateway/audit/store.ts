import { randomBytes } from 'node:crypto';
import { openFileLog } from '../../ledger/log/file-log.ts';
import type { LogSink, LogWriter } from '../../ledger/log/log.ts';
import { logKey } from '../../ledger/log/log-key.ts';
import { openRedisLog } from '../../ledger/log/redis-log.ts';
import { auditBodies, SALT_HEX } from './record.ts';
import { AuditUnavailableError, type AuditStore, type StoreLog } from './store-types.ts';
import { auditLogReader, pageAuditRecords, sealCheckOf } from '../../ledger/audit-reader.ts';

export type { AuditFilter, AuditStore, StoreStats } from './store-types.ts';
export { AuditUnavailableError } from './store-types.ts';

export const AUDIT_LOG = 'audit';

const quiet: StoreLog = { info() {}, warn() {} };

/** Salts drawn from the CSPRNG this many records at a time: a draw's cost is mostly per call. */
const SALTS_PER_DRAW = 512;

/** Record salts (SALT_HEX hex characters each) from a pool refilled by one CSPRNG draw; each salt is handed out once. */
function saltPool(): { take(n: number): string } {
  let pool = '';
  let at = 0;
  return {
    take(n) {
      const want = n * SALT_HEX;
      if (pool.length - at < want) {
        pool = randomBytes((SALT_HEX / 2) * Math.max(SALTS_PER_DRAW, n)).toString('hex');
        at = 0;
      }
      at += want;
      return pool.slice(at - want, at);
    },
  };
}

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
  const salts = saltPool();
  return {
    kind: writer.kind,
    append(entries) {
      if (entries.length === 0) return Promise.resolve();
      return writer.append(auditBodies(entries, salts.take(entries.length))).then(() => undefined, failed);
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
