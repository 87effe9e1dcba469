import { Redis } from 'ioredis';
import type { Config } from '../../gateway/config.ts';
import { silentLogger } from '../../gateway/log.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { startExchange, type Exchange } from './exchange.ts';

const REDIS = 'redis://127.0.0.1:6379';

export interface RedisGateways {
  readonly ex: Exchange;
  readonly gateways: readonly RunningGateway[];
  /** Stops the gateways and the exchange and deletes the test's Redis keys. */
  close(): Promise<void>;
}

/**
 * An exchange over the machine's Redis, under a key prefix of the test's own, plus one more
 * gateway per instance name with `tweak` applied to its configuration and a fixed clock: what a
 * test of state shared by every instance (rate limits, budgets) starts.
 */
export async function gatewaysOverOneRedis(instances: readonly string[], tweak: (config: Config) => Config, now: number): Promise<RedisGateways> {
  const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  const ex = await startExchange({ env: { REDIS_URL: REDIS, REDIS_PREFIX: prefix } });
  const gateways: RunningGateway[] = [];
  for (const instance of instances) gateways.push(await startGateway(tweak(ex.config), { log: silentLogger, clock: () => now, instance }));
  return {
    ex,
    gateways,
    async close() {
      for (const gw of gateways) await gw.close();
      await ex.close();
      const r = new Redis(REDIS);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    },
  };
}
