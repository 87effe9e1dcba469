import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usccCheckChar } from '../../common/codes.ts';
import type { RunningGateway } from '../../gateway/server.ts';
import type { Exchange } from '../helpers/exchange.ts';
import { gatewaysOverOneRedis, type RedisGateways } from '../helpers/redis-gateways.ts';

function usccs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const first17 = `914452020000${String(i).padStart(5, '0')}`;
    return first17 + usccCheckChar(first17)!;
  });
}

describe('COST_BUDGET_PER_MINUTE with two gateways over one Redis', () => {
  let shared: RedisGateways;
  let ex: Exchange;
  let gateways: readonly RunningGateway[];
  const now = Date.parse('2026-06-01T08:00:00Z');
  beforeAll(async () => {
    shared = await gatewaysOverOneRedis(['budget-a', 'budget-b'], (c) => ({ ...c, inputLimits: { ...c.inputLimits, maxRequestCost: 100 }, costBudgetPerMinute: 150 }), now);
    ({ ex, gateways } = shared);
  }, 60_000);
  afterAll(() => shared.close());
  const ask = async (gw: RunningGateway, agency: string): Promise<{ status: number; body: { errors?: { message: string; extensions?: Record<string, unknown> }[] } }> => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ex.token(agency)}` },
      body: JSON.stringify({ query: 'query($k: [USCC!]!) { enterprises(uscc: $k) { name status } }', variables: { k: usccs(40) } }),
    });
    return { status: res.status, body: (await res.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };

  it('draws an agency budget once across both instances, not once per instance', async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    expect((await ask(a, 'psb')).status).toBe(200); // 81 of 150, on instance a
    const over = await ask(b, 'psb'); // instance b sees what a drew
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'COST_BUDGET_PER_MINUTE' });
    expect(over.body.errors?.[0]?.message).toContain('agency psb has 69 of its budget of 150 per minute left');
    // Another agency's budget is its own.
    expect((await ask(b, 'civil')).status).toBe(200);
  });
});
