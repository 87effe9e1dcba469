import { Redis } from 'ioredis';
import { openLedger } from '../ledger/ledger.ts';

export interface LedgerBench {
  readonly fileEventsPerSecond: number;
  readonly redisEventsPerSecond: number | null;
  readonly events: number;
}

const EVENTS = 20_000;
const IN_FLIGHT = 64;

/**
 * Ledger appends per second with the access log's durability (fdatasync'd file; acknowledged by
 * Redis): IN_FLIGHT recorders at once, as concurrent mutations would, each event durable and folded
 * before its recorder goes on.
 */
async function rate(open: () => ReturnType<typeof openLedger>): Promise<number> {
  const ledger = await open();
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < EVENTS) {
      const i = next++;
      await ledger.record({ type: 'dataset.updated', data: { dataset: 'eeb.enterprise-emissions', asOf: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString() } }, { sub: 'bench', agency: 'eeb' });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - started) / 1000;
  await ledger.close();
  return EVENTS / seconds;
}

export async function runLedgerBench(dir: string, redisUrl: string | null): Promise<LedgerBench> {
  const fileEventsPerSecond = await rate(() => openLedger({ dataDir: `${dir}/ledger-file`, redisUrl: null, sink: { info() {}, warn() {} } }));
  let redisEventsPerSecond: number | null = null;
  if (redisUrl !== null) {
    const prefix = `bench:${process.pid}:`;
    try {
      redisEventsPerSecond = await rate(() => openLedger({ dataDir: `${dir}/ledger-redis`, redisUrl, redisPrefix: prefix, sink: { info() {}, warn() {} } }));
    } catch {
      redisEventsPerSecond = null; // no Redis here: the figure is reported as such
    } finally {
      const r = new Redis(redisUrl);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
  }
  return { fileEventsPerSecond, redisEventsPerSecond, events: EVENTS };
}
