import type { ChainShipping } from '../archive/shipper.ts';
import type { BackupSettings } from '../backup/run.ts';

/**
 * What the gateway's background process needs to know: everything comes from the gateway's
 * configuration, read and checked there, and crosses over in the first message (the background
 * process reads no environment of its own).
 */
export interface BackgroundSettings {
  /** The gateway instance it works for: the backup claims are made in its name. */
  readonly instance: string;
  readonly dataDir: string;
  readonly policyDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  /** LOG_SIGNING_KEY and the witnesses: the ledger events this process records are sealed like the gateway's. */
  readonly logSigningKey: string | null;
  readonly witnessUrls: readonly string[];
  /** ARCHIVE_URL; null: no archive shipping. */
  readonly archiveUrl: string | null;
  /** BACKUP_INTERVAL with the BACKUP_* settings; null: backups by command only. */
  readonly backup: (BackupSettings & { readonly intervalMs: number }) | null;
}

/** Gateway to background process. */
export type ToBackground = { readonly type: 'start'; readonly settings: BackgroundSettings } | { readonly type: 'stop' };

/** Background process to gateway. */
export type FromBackground =
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly line: string }
  | { readonly type: 'status'; readonly archiveRole: 'shipping' | 'standby' | null; readonly chains: readonly ChainShipping[]; readonly backupRunning: boolean }
  | { readonly type: 'started' };

export function isFromBackground(m: unknown): m is FromBackground {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'log' || t === 'status' || t === 'started';
}

export function isToBackground(m: unknown): m is ToBackground {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'start' || t === 'stop';
}
