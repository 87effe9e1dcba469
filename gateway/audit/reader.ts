import { fileLogReader } from '../../ledger/log/file-log.ts';
import type { LogReader } from '../../ledger/log/log.ts';
import { redisLogReader } from '../../ledger/log/redis-log.ts';
import type { AuditRecord } from './record.ts';
import { filterRecords, type AuditFilter } from './store-types.ts';

export interface AuditLocation {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
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

/** The auditors' GraphQL fields read through this. */
export function auditReader(at: AuditLocation) {
  const reader = auditLogReader(at);
  return async (filter: AuditFilter, page: { first: number; after?: string }) => filterRecords(await readAuditRecords(reader), filter, page);
}
