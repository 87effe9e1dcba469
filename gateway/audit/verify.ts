import { readdirSync } from 'node:fs';
import path from 'node:path';
import { logKey, logVerifier } from '../../ledger/log/log-key.ts';
import { verifyLog, type Verification } from '../../ledger/log/verify.ts';
import { checkpointSigner } from '../../ledger/log/witness.ts';
import { auditLogReader, type AuditLocation } from '../../ledger/audit-reader.ts';

export type { BadRecord, Verification } from '../../ledger/log/verify.ts';

/** Torn tails set aside by a restart after a crash: never acknowledged, worth a note. */
export function tornNotes(dataDir: string, log: string): string[] {
  const root = path.join(dataDir, log);
  const notes: string[] = [];
  let chains: string[];
  try {
    chains = readdirSync(root);
  } catch {
    return notes;
  }
  for (const c of chains) {
    let files: string[];
    try {
      files = readdirSync(path.join(root, c));
    } catch {
      continue;
    }
    for (const f of files) if (f.includes('.torn-')) notes.push(`${decodeURIComponent(c)}/${f}: a torn final line set aside at restart after a crash (never acknowledged)`);
  }
  return notes;
}

/** Where the log key and the off-host witnesses are (LOG_SIGNING_KEY, WITNESS_URLS). */
export interface LogTrust {
  readonly logSigningKey?: string | null;
  /** Absent: off-host witnesses are not consulted (nor their absence noted). */
  readonly witnessUrls?: readonly string[];
}

/**
 * Verifies every chain of the access log: links, seals of the log key, checkpoints, the local
 * witness and the off-host witnesses.
 */
export async function verifyAuditLog(at: AuditLocation & LogTrust): Promise<Verification> {
  const reader = auditLogReader(at);
  try {
    return await verifyLog(reader, {
      dataDir: at.dataDir,
      publicKeyPem: checkpointSigner(at.dataDir).publicKeyPem,
      notes: at.redisUrl === null ? tornNotes(at.dataDir, 'audit') : [],
      seals: logVerifier(logKey(at.dataDir, at.logSigningKey ?? null).publicKeyPem),
      ...(at.witnessUrls !== undefined ? { witnesses: at.witnessUrls } : {}),
    });
  } finally {
    await reader.close();
  }
}
