import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.ts';
import type { Exchange } from '../helpers/exchange.ts';
import { gatewaysOverOneRedis, type RedisGateways } from '../helpers/redis-gateways.ts';

describe('RATE_LIMIT_PER_MINUTE with two gateways over one Redis', () => {
  let shared: RedisGateways;
  let ex: Exchange;
  let gateways: readonly RunningGateway[];
  const now = Date.parse('2026-06-01T08:00:00Z');
  beforeAll(async () => {
    shared = await gatewaysOverOneRedis(['limited-a', 'limited-b'], (c) => ({ ...c, rateLimitPerMinute: 3 }), now);
    ({ ex, gateways } = shared);
  }, 60_000);
  afterAll(() => shared.close());
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
