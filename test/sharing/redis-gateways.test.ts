import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.ts';
import { postGraphQL, startExchange, type Exchange } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';

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

  it('a grant approved through the workflow on one instance takes effect in the other, and so does its revocation', async () => {
    const q = `{ enterprise(uscc: "${ENT}") { emissions(year: 2024) { cod } } }`;
    const ask = () => postGraphQL(second.url, q, { agency: 'tax', purpose: 'statistics' }, ex.token);
    const before = await ask();
    expect((before.body.errors?.[0]?.extensions?.['sharing'] as { reason: string }).reason).toBe('GRANT_REQUIRED');

    const filed = await ex.query(
      'mutation { fileSharingRequest(provider: "eeb", datasets: ["eeb.enterprise-emissions"], purposes: ["statistics"], legalBasis: "R-11", justification: "环保税征管统计", validUntil: "2030-01-01") { id } }',
      { agency: 'tax' },
    );
    const id = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { grantIds } }', { agency: 'eeb', variables: { id } });
    expect(approved.body.data?.['approveSharingRequest']).toEqual({ grantIds: [`g-${id}-1`] });
    const started = performance.now();
    const after = await answerWhen(ask, (r) => r.body.errors === undefined);
    console.log(`grant propagation from an approval on gateway A to gateway B over Redis: ${(performance.now() - started).toFixed(1)} ms`);
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data).toEqual({ enterprise: { emissions: { cod: expect.any(Number) } } });

    const revoked = await ex.query('mutation($id: ID!) { revokeGrant(id: $id, reasons: "征管事项办结") }', { agency: 'eeb', variables: { id: `g-${id}-1` } });
    expect(revoked.body.data).toEqual({ revokeGrant: true });
    const revokedAt = performance.now();
    let denied = await ask();
    while (denied.body.errors === undefined && performance.now() - revokedAt < 3000) denied = await ask();
    console.log(`revocation propagation to gateway B over Redis: ${(performance.now() - revokedAt).toFixed(1)} ms`);
    expect((denied.body.errors?.[0]?.extensions?.['sharing'] as { reason: string }).reason).toBe('GRANT_REQUIRED');
  });

  it('writes both instances\u2019 audit records to the one Redis stream, each its own chain', async () => {
    await postGraphQL(second.url, `{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' }, ex.token);
    await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' });
    const res = await ex.query('{ auditRecords(filter: { coordinate: "Enterprise.name" }, first: 100) { records { instance seq } } }', { agency: 'itd', roles: ['auditor'] });
    const instances = new Set((res.body.data?.['auditRecords'] as { records: { instance: string }[] }).records.map((r) => r.instance));
    expect(instances).toEqual(new Set(['gw-a', 'gw-b']));
  });
});
