import pg from 'pg';
import type { ChainShipping } from './shipper.ts';
import { startArchiving, type ArchivingOptions } from './start.ts';

/** The advisory lock that elects the shipper (per archive database). */
const SHIPPER_LOCK = 0x65786368;

export interface ElectedShipper {
  /** `shipping`: this process holds the archive's shipper lock; `standby`: another one does, or PostgreSQL is away. */
  role(): 'shipping' | 'standby';
  chains(): ChainShipping[];
  stop(): Promise<void>;
}

/**
 * One shipper at a time per archive, however many gateways have ARCHIVE_URL: each asks
 * PostgreSQL for a session advisory lock and ships only while it holds it. The others stand by
 * and ask again every `everyMs`; the lock goes with its session, so when the holder dies, is
 * stopped, or loses its connection, one of them takes over. Several shippers would be correct
 * too (each batch moves its chain's archived head in the same transaction, so a batch another
 * shipper already wrote is refused, never stored twice) but each would read and hash every
 * chain of the log and race the others for the same rows.
 */
export function startElectedArchiving(opts: ArchivingOptions): ElectedShipper {
  const everyMs = opts.everyMs ?? 1_000;
  let stopped = false;
  let shipper: ReturnType<typeof startArchiving> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  let down = false;

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      const client = new pg.Client({ connectionString: opts.archiveUrl, connectionTimeoutMillis: 5_000 });
      const lost = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      let held = false;
      try {
        await client.connect();
        held = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [SHIPPER_LOCK])).rows[0]?.ok === true;
        down = false;
      } catch (e) {
        if (!down) opts.sink.warn(`archive: PostgreSQL unavailable (${(e as { code?: string }).code ?? (e as Error).message}); the log keeps every record, shipping resumes when it is back`);
        down = true;
      }
      if (held && !stopped) {
        shipper = startArchiving(opts);
        opts.sink.info('archive: this gateway ships the logs into the archive');
        await Promise.race([lost, new Promise<void>((resolve) => (wake = resolve))]);
        const s = shipper;
        shipper = null;
        await s.stop();
        if (!stopped) opts.sink.warn('archive: lost the connection that elects the shipper; stopped shipping until it is back');
      }
      await client.end().catch(() => undefined);
      if (!stopped) await pause(everyMs);
    }
  };
  const running = run();

  return {
    role: () => (shipper === null ? 'standby' : 'shipping'),
    chains: () => shipper?.chains() ?? [],
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}
