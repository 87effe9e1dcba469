import { auditLogReader, readAuditRecords } from '../../ledger/audit-reader.ts';
import type { AuditRecord } from '../../gateway/audit/record.ts';
import { verifyAuditLog, type Verification } from '../../gateway/audit/verify.ts';

/** Every record of the embedded access log under `dataDir`, read the way the CLI reads it. */
export async function fileAuditRecords(dataDir: string): Promise<AuditRecord[]> {
  const reader = auditLogReader({ dataDir, redisUrl: null, redisPrefix: '' });
  try {
    return await readAuditRecords(reader);
  } finally {
    await reader.close();
  }
}

export function verifyFileAudit(dataDir: string): Promise<Verification> {
  return verifyAuditLog({ dataDir, redisUrl: null, redisPrefix: '' });
}
