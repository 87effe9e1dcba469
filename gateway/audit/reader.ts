import type { Pool } from 'pg';
import { openArchivePool } from '../../ledger/archive/pool.ts';
import { queryArchive } from '../../ledger/archive/query.ts';
import { fileLogReader } from '../../ledger/log/file-log.ts';
import type { LogReader } from '../../ledger/log/log.ts';
import { redisLogReader } from '../../ledger/log/redis-log.ts';
import type { AuditRecord } from './record.ts';
import { filterRecords, type AuditFilter } from './store-types.ts';

export interface AuditLocation {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  /** ARCHIVE_URL: when set, auditors' queries read the PostgreSQL archive instead of the log. */
  readonly archiveUrl?: string | null;
}

/** A reader of the access log wherever this deployment keeps it. */
export function auditLogReader(at: AuditLocation): LogReader {
  return at.redisUrl === null ? fileLogReader(at.dataDir, 'audit') : redisLogReader({ url: at.redisUrl, prefix: at.redisPrefix, log: 'audit' });
}

/** Every whole record of every chain (a torn line is verify's business, never served). */
export async function readAuditRecords(reader: LogReader): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (const chain of await reader.chains()) {
    for (let after = 0; ; ) {
      const batch = await reader.read(chain, after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) {
        try {
          out.push(JSON.parse(r.line) as AuditRecord);
        } catch {
          // reported by verify
        }
      }
      after = batch[batch.length - 1]!.seq;
    }
  }
  return out;
}

/**
 * One page of records from the archive. PostgreSQL's own errors name hosts and ports: the caller
 * gets a sentence, the operator's log (the shipper's warnings) has the detail.
 */
export function archiveAuditReader(archiveUrl: string) {
  let pool: Pool | null = null;
  const read = async (filter: AuditFilter, page: { first: number; after?: string }): Promise<{ records: AuditRecord[]; next: string | null }> => {
    pool ??= openArchivePool(archiveUrl, 4);
    try {
      const found = await queryArchive(pool, filter, page);
      return { records: found.records as AuditRecord[], next: found.next };
    } catch (e) {
      // Errors with a code come from the connection or PostgreSQL; ours name the bad input already.
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string') throw e;
      throw new Error(`the access log archive cannot answer now (${code})`, { cause: e });
    }
  };
  return Object.assign(read, {
    async close(): Promise<void> {
      await pool?.end();
      pool = null;
    },
  });
}

/** The auditors' GraphQL fields read through this: the archive when there is one, else the log. */
export function auditReader(at: AuditLocation) {
  if (at.archiveUrl !== undefined && at.archiveUrl !== null) return archiveAuditReader(at.archiveUrl);
  const reader = auditLogReader(at);
  return async (filter: AuditFilter, page: { first: number; after?: string }) => filterRecords(await readAuditRecords(reader), filter, page);
}
