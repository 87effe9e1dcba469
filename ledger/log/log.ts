import type { ChainHead, LogRecord } from './chain.ts';

/**
 * The one append-only log of the exchange (STYLE: Kafka's log, CT's signed heads). A log has a name
 * (`audit`, `ledger`) and holds chains; each chain is a hash chain of records. The access log gives
 * each gateway instance its own chain; the authority's ledger is one chain that several processes
 * append to. Both backends (files under DATA_DIR, Redis streams) implement this and pass one
 * conformance suite (test/ledger/log-conformance.test.ts).
 */
export interface LogWriter {
  readonly kind: 'file' | 'redis';
  readonly log: string;
  readonly chain: string;
  /**
   * Appends each body (a compact JSON object text) as one record, in order, after whatever the
   * chain holds when the write lands: concurrent calls share one durable write (group commit), and
   * other writers of the same chain are never forked (compare-and-append). Resolves with the seq of
   * the first body once all of them are durable (fdatasync'd, or acknowledged by Redis); rejects
   * with LogUnavailableError otherwise, in which case none of them counts.
   */
  append(bodies: readonly string[]): Promise<number>;
  /**
   * Appends only if the chain still ends at `headSeq` (optimistic concurrency: a writer that
   * decided on the state at that seq). Rejects with LogConflictError when the chain has moved on;
   * never group-committed with other appends.
   */
  appendIf(bodies: readonly string[], headSeq: number): Promise<number>;
  /** Where this writer last saw the chain end. */
  head(): ChainHead;
  /**
   * Whether an append would be accepted now, as far as the writer can tell without writing (for
   * /health): the last write succeeded and the store is reachable (the chain's directory takes
   * writes; the Redis connection is up).
   */
  writable(): boolean;
  stats(): LogStats;
  /** Waits for queued appends, writes the witness, releases the chain. */
  close(): Promise<void>;
}

export interface LogStats {
  /** append() calls. */
  appends: number;
  records: number;
  /** Durable writes (fdatasync or Redis round trips); fewer than appends under load is group commit. */
  syncs: number;
}

export interface LogReader {
  readonly kind: 'file' | 'redis';
  readonly log: string;
  /** Every chain of the log. */
  chains(): Promise<string[]>;
  /** Whole records of `chain` with seq > after, in order, at most `limit`. */
  read(chain: string, after: number, limit: number): Promise<LogRecord[]>;
  /** Calls `wake` whenever the chain may have grown (a file event, a Redis message, a reconnect). */
  watch(chain: string, wake: () => void): () => void;
  close(): Promise<void>;
}

export interface LogSink {
  info(line: string): void;
  warn(line: string): void;
}

export class LogUnavailableError extends Error {
  override readonly name = 'LogUnavailableError';
}

/** The chain moved past the head an appendIf was decided on: sync, decide again, retry. */
export class LogConflictError extends Error {
  override readonly name = 'LogConflictError';
  constructor(readonly headSeq: number) {
    super(`the chain moved on to seq ${headSeq}`);
  }
}
