import { fileLogReader } from '../log/file-log.ts';
import type { LogReader, LogSink } from '../log/log.ts';
import { redisLogReader } from '../log/redis-log.ts';
import { startShipper, type ArchiveShipper } from './shipper.ts';
import { ARCHIVED_LOGS } from './schema.ts';

export interface ArchivingOptions {
  readonly archiveUrl: string;
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  readonly sink: LogSink;
  readonly everyMs?: number;
}

/** Readers of every archived log (`audit`, `ledger`) wherever this deployment keeps them. */
export function archivedLogReaders(at: { dataDir: string; redisUrl: string | null; redisPrefix: string }): LogReader[] {
  return Object.keys(ARCHIVED_LOGS).map((log) => (at.redisUrl === null ? fileLogReader(at.dataDir, log) : redisLogReader({ url: at.redisUrl, prefix: at.redisPrefix, log })));
}

/** Starts shipping the access log and the authority's ledger into the archive, in the background. */
export function startArchiving(opts: ArchivingOptions): ArchiveShipper {
  return startShipper({ url: opts.archiveUrl, readers: archivedLogReaders(opts), sink: opts.sink, ...(opts.everyMs !== undefined ? { everyMs: opts.everyMs } : {}) });
}
