import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../gateway/log.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const REDIS = 'redis://127.0.0.1:6379';

describe('RATE_LIMIT_PER_MINUTE with two gateways over one Redis', () => {
  const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  let ex: Exchange;
  const gateways: RunningGateway[] = [];
  const now = Date.parse('2026-06-01T08:00:00Z');
  beforeAll(async () => {
    ex = await startExchange({ env: { REDIS_URL: REDIS, REDIS_PREFIX: prefix } });
    for (const instance of ['limited-a', 'limited-b']) gateways.push(await startGateway({ ...ex.config, rateLimitPerMinute: 3 }, { log: silentLogger, clock: () => now, instance }));
  }, 60_000);
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await ex.close();
    const r = new Redis(REDIS);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
    r.disconnect();
  });
  const ask = async (gw: RunningGateway, agency: string): Promise<number> => {
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ex.token(agency)}` }, body: JSON.stringify({ query: '{ __typename }' }) });
    await res.arrayBuffer();
    return res.status;
  };

  it('serves an agency its limit once across both instances, not once per instance', async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const statuses = [await ask(a, 'hrss'), await ask(b, 'hrss'), await ask(a, 'hrss'), await ask(b, 'hrss'), await ask(a, 'hrss'), await ask(b, 'hrss')];
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    // Another agency's allowance is its own.
    expect(await ask(b, 'civil')).toBe(200);
  });
});
