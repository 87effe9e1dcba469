import { fileLogReader } from '../log/file-log.ts';
import type { LogReader, LogSink } from '../log/log.ts';
import { redisLogReader } from '../log/redis-log.ts';
import { logKey, logVerifier } from '../log/log-key.ts';
import { sealedReader } from '../log/sealed-reader.ts';
import { startShipper, type ArchiveShipper } from './shipper.ts';
import { ARCHIVED_LOGS } from './schema.ts';

export interface ArchivingOptions {
  readonly archiveUrl: string;
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  readonly sink: LogSink;
  readonly everyMs?: number;
  /** LOG_SIGNING_KEY (PEM); null or absent: the development key. Only records under its seals are shipped. */
  readonly logSigningKey?: string | null;
}

/** Readers of every archived log (`audit`, `ledger`) wherever this deployment keeps them. */
export function archivedLogReaders(at: { dataDir: string; redisUrl: string | null; redisPrefix: string }): LogReader[] {
  return Object.keys(ARCHIVED_LOGS).map((log) => (at.redisUrl === null ? fileLogReader(at.dataDir, log) : redisLogReader({ url: at.redisUrl, prefix: at.redisPrefix, log })));
}

/** Starts shipping the access log and the authority's ledger into the archive, in the background. */
export function startArchiving(opts: ArchivingOptions): ArchiveShipper {
  const verifier = logVerifier(logKey(opts.dataDir, opts.logSigningKey ?? null).publicKeyPem);
  // The archive is what auditors query: a record no seal of the log key covers never reaches it.
  // The shipper then finds its chain not continuous and stops shipping that chain, as for any break.
  const readers = archivedLogReaders(opts).map((r) =>
    sealedReader(r, verifier, (u) => opts.sink.warn(`archive: records ${u.first}..${u.last} of ${u.log}/${u.chain} (${u.where}) are not shipped: ${u.why}`)),
  );
  return startShipper({ url: opts.archiveUrl, readers, sink: opts.sink, ...(opts.everyMs !== undefined ? { everyMs: opts.everyMs } : {}) });
}
