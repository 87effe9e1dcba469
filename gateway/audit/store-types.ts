import type { AuditFilter } from '../../common/access-record.ts';
import type { AuditEntry, AuditRecord } from './record.ts';

export type { AuditFilter } from '../../common/access-record.ts';

export interface StoreStats {
  appends: number;
  records: number;
  /** fdatasync calls (file) or MULTI round trips (Redis): fewer than appends under load = group commit. */
  syncs: number;
}

export interface StoreLog {
  info(line: string): void;
  warn(line: string): void;
}

/** The file store and the Redis store behind one interface; both pass the same test suite. */
export interface AuditStore {
  readonly kind: 'file' | 'redis';
  /** Resolves only once every entry is durable; rejects with AuditUnavailableError otherwise. */
  append(entries: readonly AuditEntry[]): Promise<void>;
  query(filter: AuditFilter, page: { first: number; after?: string }): Promise<{ records: AuditRecord[]; next: string | null }>;
  stats(): StoreStats;
  /** Whether an append would be accepted now, as far as the store can tell without writing (for /health). */
  writable(): boolean;
  close(): Promise<void>;
}

export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}
