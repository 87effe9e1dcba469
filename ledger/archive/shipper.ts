import type { ChainHead, LogRecord } from '../log/chain.ts';
import { follow, type Follower } from '../log/follow.ts';
import type { LogReader, LogSink } from '../log/log.ts';
import { openShipperPool } from './pool.ts';
import { ArchiveConflictError, archivedHead, prepareBatch, reportProblem, shipBatch } from './insert.ts';
import { ARCHIVED_LOGS, ensurePartitions, ensureSchema } from './schema.ts';

export interface ShipperOptions {
  /** A postgres:// URL (ARCHIVE_URL). */
  readonly url: string;
  /** The logs to archive, each with a reader of it (the `audit` and `ledger` logs). */
  readonly readers: readonly LogReader[];
  readonly sink: LogSink;
  /** Records per COPY transaction. */
  readonly batch?: number;
  /** How often new chains (a new gateway instance) are looked for, and a failed write retried. */
  readonly everyMs?: number;
}

/** Where one chain's archive stands: `shipped` is the last archived seq; `problem` why it stopped. */
export interface ChainShipping {
  readonly log: string;
  readonly chain: string;
  readonly shipped: number;
  readonly problem: string | null;
}

export interface ArchiveShipper {
  chains(): ChainShipping[];
  /** Stops following, waits for the batch in flight, closes the readers and the connections. */
  stop(): Promise<void>;
}

/** The log is read at most every 200 ms: a few large batches a second, well within the 1 s the archive may lag. */
const READ_SPACING_MS = 200;

/** Most records read ahead of the archive per chain: during an outage the log, not memory, holds the rest. */
const READ_AHEAD = 50_000;

/**
 * Copies every chain of the given logs into the archive, in order and exactly once, behind the
 * durable log: it follows each chain from where the archive ends, checks that every record links
 * to the one before (a gap or an edit is reported and shipping of that chain stops, never papered
 * over), and writes batches in transactions that also move the chain's archived head. A failed
 * write (PostgreSQL down, a cut connection) keeps the batch and retries; whatever the archive holds
 * when the shipper restarts is where it continues. It never throws: problems go to `sink`.
 */
export function startShipper(opts: ShipperOptions): ArchiveShipper {
  const batchSize = opts.batch ?? 5_000;
  const everyMs = opts.everyMs ?? 1_000;
  const pool = openShipperPool(opts.url);
  const shippers = new Map<string, ChainShipper>();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let down: string | null = null;
  let stopping: Promise<void> | null = null;

  const outage = (e: unknown): void => {
    const why = describe(e);
    if (down === null) opts.sink.warn(`archive: PostgreSQL unavailable (${why}); the log keeps every record, shipping resumes when it is back`);
    down = why;
  };
  const back = (): void => {
    if (down !== null) opts.sink.info('archive: PostgreSQL reachable again, shipping resumed');
    down = null;
  };

  class ChainShipper {
    head: ChainHead | null = null;
    problem: string | null = null;
    private queue: LogRecord[] = [];
    private queuedTo = 0;
    private follower: Follower | null = null;
    private draining: Promise<void> | null = null;
    private starting: Promise<void> | null = null;

    constructor(
      readonly reader: LogReader,
      readonly chain: string,
    ) {}

    /** Loads the archived head (retried by the caller's tick until PostgreSQL answers) and follows from it. */
    start(): Promise<void> {
      this.starting ??= (async () => {
        const { head } = await archivedHead(pool, this.reader.log, this.chain);
        this.head = head;
        this.queuedTo = head.seq;
        this.problem = null;
        this.resume();
      })().finally(() => {
        this.starting = null;
      });
      return this.starting;
    }

    private resume(): void {
      if (stopped || this.follower !== null || this.problem !== null) return;
      this.follower = follow(this.reader, this.chain, this.queuedTo, (records) => this.deliver(records), (e) => opts.sink.warn(`archive: reading ${this.reader.log}/${this.chain}: ${e.message}`), { spacingMs: READ_SPACING_MS });
      void this.follower.sync();
    }

    private pause(): void {
      this.follower?.stop();
      this.follower = null;
    }

    private deliver(records: readonly LogRecord[]): void {
      for (const r of records) this.queue.push(r);
      this.queuedTo = records[records.length - 1]!.seq;
      if (this.queue.length >= READ_AHEAD) this.pause();
      this.kick();
    }

    /** Called by the deliveries and the periodic tick: one drain at a time. */
    kick(): void {
      if (this.draining !== null || stopped || this.head === null) return;
      this.draining = this.drain().finally(() => {
        this.draining = null;
      });
    }

    private async drain(): Promise<void> {
      while (!stopped && this.queue.length > 0 && this.problem === null && this.head !== null) {
        const batch = await prepareBatch(this.reader.log, this.chain, this.head, this.queue, batchSize);
        try {
          await shipBatch(pool, batch);
          back();
        } catch (e) {
          if (e instanceof ArchiveConflictError) {
            opts.sink.info(`archive: ${e.message}; continuing from the archive's head`);
            await this.restartFromArchive();
            return;
          }
          outage(e);
          return; // the tick retries the same records
        }
        this.head = batch.to;
        this.queue.splice(0, batch.records.length);
        if (batch.problem !== null) {
          this.problem = batch.problem;
          this.pause();
          this.queue = [];
          opts.sink.warn(`archive: chain ${this.reader.log}/${this.chain} is not continuous ${batch.problem}; shipping of this chain stopped (run npm run audit -- verify)`);
          await reportProblem(pool, this.reader.log, this.chain, batch.problem).catch(outage);
          return;
        }
      }
      if (this.queue.length === 0) this.resume();
    }

    private async restartFromArchive(): Promise<void> {
      this.pause();
      this.queue = [];
      this.head = null;
      await this.start().catch(outage);
    }

    stop(): Promise<void> {
      this.pause();
      return this.draining ?? Promise.resolve();
    }
  }

  let schemaReady = false;
  const tick = async (): Promise<void> => {
    if (!schemaReady) {
      await ensureSchema(pool);
      const now = new Date();
      const months = [now.toISOString().slice(0, 7), new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7)];
      for (const r of opts.readers) {
        const spec = ARCHIVED_LOGS[r.log];
        if (spec !== undefined) await ensurePartitions(pool, spec.table, months);
      }
      schemaReady = true;
      back();
    }
    for (const reader of opts.readers) {
      for (const chain of await reader.chains()) {
        const key = `${reader.log}/${chain}`;
        let s = shippers.get(key);
        if (s === undefined) {
          s = new ChainShipper(reader, chain);
          shippers.set(key, s);
        }
        if (s.head === null) await s.start();
        else s.kick();
      }
    }
  };
  const loop = (): void => {
    if (stopped) return;
    tick()
      .catch(outage)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, everyMs);
      });
  };
  loop();

  return {
    chains: () => [...shippers.values()].map((s) => ({ log: s.reader.log, chain: s.chain, shipped: s.head?.seq ?? 0, problem: s.problem })),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        if (timer !== null) clearTimeout(timer);
        await Promise.all([...shippers.values()].map((s) => s.stop()));
        for (const r of opts.readers) await r.close();
        await pool.end();
      })();
      return stopping;
    },
  };
}

/** A one-line reason without URLs or credentials. */
function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ?? err.message ?? String(e);
}
