import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditRecords } from '../helpers/audit.ts';
import { silentLogger } from '../../gateway/log.ts';
import { rateLimiter } from '../../gateway/rate-limit.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { postGraphQL, startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';

describe('the per-agency rate limiter', () => {
  it('lets an agency burst up to its limit, then one request per 60/limit seconds', async () => {
    let now = 0;
    const limiter = rateLimiter(3, () => now);
    const burst = [];
    for (let i = 0; i < 3; i++) burst.push((await limiter.take('tax')).ok);
    expect(burst).toEqual([true, true, true]);
    const over = await limiter.take('tax');
    expect(over).toMatchObject({ ok: false, retryAfterSeconds: 20, headers: { 'retry-after': '20', 'ratelimit-limit': '3', 'ratelimit-remaining': '0' } });
    expect((await limiter.take('amr')).ok).toBe(true);
    now += 19_999;
    expect((await limiter.take('tax')).ok).toBe(false);
    now += 1;
    expect(await limiter.take('tax')).toMatchObject({ ok: true, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': '60' } });
  });

  it('refills to the limit and no further', async () => {
    let now = 0;
    const limiter = rateLimiter(2, () => now);
    await limiter.take('tax');
    now += 10 * 60_000;
    expect((await limiter.take('tax')).headers['ratelimit-remaining']).toBe('1');
  });
});

describe('RATE_LIMIT_PER_MINUTE on a running gateway', () => {
  let ex: Exchange;
  let gw: RunningGateway;
  let now = Date.parse('2026-06-01T08:00:00Z');
  beforeAll(async () => {
    ex = await startExchange();
    gw = await startGateway({ ...ex.config, rateLimitPerMinute: 2 }, { log: silentLogger, clock: () => now, instance: 'rate-limited-gateway' });
  });
  afterAll(async () => {
    await gw.close();
    await ex.close();
  });
  const ask = (agency: string, requestId: string) =>
    fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ex.token(agency)}`, 'x-request-id': requestId, accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: `query Look { enterprise(uscc: "${ENT}") { name } }`, operationName: 'Look' }),
    });

  it('answers 429 with Retry-After and RateLimit headers over the limit, records the denial, and answers again once time has passed', async () => {
    const first = await ask('psb', 'rl-1');
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect((await ask('psb', 'rl-2')).status).toBe(200);

    const over = await ask('psb', 'rl-3');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('30');
    expect(over.headers.get('ratelimit-remaining')).toBe('0');
    expect(over.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    const body = (await over.json()) as { data?: unknown; errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]).toMatchObject({ message: expect.stringContaining('psb is over its limit of 2 requests per minute'), extensions: { code: 'RATE_LIMITED', requestId: 'rl-3' } });

    const records = (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === 'rl-3');
    expect(records).toEqual([expect.objectContaining({ coordinate: 'Query.enterprise', agency: 'psb', operationName: 'Look', decision: 'DENY', reason: 'RATE_LIMITED', dataset: 'amr.enterprise-registration', count: 0 })]);

    // Another agency has its own allowance.
    expect((await ask('civil', 'rl-4')).status).toBe(200);
    now += 30_000;
    expect((await ask('psb', 'rl-5')).status).toBe(200);
  });

  it('sets no RateLimit headers when no limit is configured', async () => {
    const res = await postGraphQL(ex.url, '{ __typename }', {}, ex.token);
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  });
});
