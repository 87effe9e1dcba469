import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

describe('GET /health under a flood and to strangers', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
  });
  afterAll(async () => {
    await ex.close();
  });
  const health = (authorization?: string): Promise<Response> => fetch(new URL('/health', ex.url), authorization === undefined ? {} : { headers: { authorization } });
  const probesOf = (subgraph: string): number => ex.spies.get(subgraph)!.requests.filter((r) => r.query === '{ __typename }').length;

  it('tells an unauthenticated caller only the status: no subgraphs, no overdue datasets', async () => {
    const res = await health();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('tells an agency that is not the authority, or an itd caller without an operator role, only the status', async () => {
    for (const token of [ex.token('amr', ['auditor', 'coordinator']), ex.token('itd', ['policy-maintainer'])]) {
      expect(await (await health(`Bearer ${token}`)).json()).toEqual({ status: 'ok' });
    }
  });

  it('names subgraphs and overdue datasets to an itd auditor or coordinator', async () => {
    for (const role of ['auditor', 'coordinator']) {
      const body = (await (await health(`Bearer ${ex.token('itd', [role])}`)).json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 'ok', degraded: [], freshness: { overdue: expect.any(Array) as unknown } });
      expect(Object.keys(body['subgraphs'] as object)).toContain('psb');
    }
  });

  it('answers 200 concurrent calls from a handful of subgraph probes, not one per call', async () => {
    const before = probesOf('tax');
    const answers = await Promise.all(Array.from({ length: 200 }, () => health().then((r) => r.status)));
    expect(answers.every((s) => s === 200)).toBe(true);
    expect(probesOf('tax') - before).toBeLessThanOrEqual(2);
  });
});
