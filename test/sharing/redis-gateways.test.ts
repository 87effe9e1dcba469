import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.ts';
import { postGraphQL, startExchange, type Exchange } from '../helpers/exchange.ts';

const REDIS = 'redis://127.0.0.1:6379';
const ENT = '91445202MA4W3K7PX2';

describe('two gateway instances over one Redis', () => {
  const prefix = `test:${process.pid}:${Date.now()}:`;
  let ex: Exchange;
  let second: RunningGateway;
  beforeAll(async () => {
    ex = await startExchange({ env: { REDIS_URL: REDIS, REDIS_PREFIX: prefix, INSTANCE_ID: 'gw-a' } });
    second = await ex.startAnotherGateway({ INSTANCE_ID: 'gw-b' });
  });
  afterAll(async () => {
    await ex.close();
    const r = new Redis(REDIS);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
    r.disconnect();
  });

  it('a grant added through one instance takes effect in the other, and so does its revocation', async () => {
    const q = `{ enterprise(uscc: "${ENT}") { emissions(year: 2024) { cod } } }`;
    const ask = () => postGraphQL(second.url, q, { agency: 'tax', purpose: 'tax-collection' }, ex.token);
    const before = await ask();
    expect((before.body.errors?.[0]?.extensions?.['sharing'] as { reason: string }).reason).toBe('GRANT_REQUIRED');

    const started = performance.now();
    await ex.gateway.policy.store.apply({ op: 'grant', grant: { id: 'g-redis-1', consumer: 'tax', dataset: 'eeb.enterprise-emissions', purposes: ['tax-collection'], validFrom: '2026-01-01', validUntil: '2030-01-01' } });
    let after = await ask();
    while (after.body.errors !== undefined && performance.now() - started < 3000) after = await ask();
    console.log(`grant propagation to the second gateway over Redis: ${(performance.now() - started).toFixed(1)} ms`);
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data).toEqual({ enterprise: { emissions: { cod: expect.any(Number) } } });

    await ex.gateway.policy.store.apply({ op: 'revoke-grant', id: 'g-redis-1', reason: 'test over' });
    let revoked = await ask();
    while (revoked.body.errors === undefined && performance.now() - started < 6000) revoked = await ask();
    expect((revoked.body.errors?.[0]?.extensions?.['sharing'] as { reason: string }).reason).toBe('GRANT_REQUIRED');
  });

  it('writes both instances\u2019 audit records to the one Redis stream, each its own chain', async () => {
    await postGraphQL(second.url, `{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' }, ex.token);
    await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' });
    const res = await ex.query('{ auditRecords(filter: { coordinate: "Enterprise.name" }, first: 100) { records { instance seq } } }', { agency: 'itd', roles: ['auditor'] });
    const instances = new Set((res.body.data?.['auditRecords'] as { records: { instance: string }[] }).records.map((r) => r.instance));
    expect(instances).toEqual(new Set(['gw-a', 'gw-b']));
  });
});
