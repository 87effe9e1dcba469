import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';

describe('client mistakes get a 400 naming what is wrong', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
  });
  afterAll(async () => {
    await ex.close();
  });
  const fetched = (): number => [...ex.spies.values()].reduce((n, s) => n + s.requests.length, 0);

  it('answers two operations without operationName with 400 OPERATION_RESOLUTION_FAILURE', async () => {
    const res = await ex.query(`query A { enterprise(uscc: "${ENT}") { name } } query B { __typename }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('OPERATION_RESOLUTION_FAILURE');
    expect(res.body.errors?.[0]?.message).toMatch(/operationName/);
  });

  it('answers an unknown operationName with 400 OPERATION_RESOLUTION_FAILURE naming it', async () => {
    const res = await ex.query(`query A { enterprise(uscc: "${ENT}") { name } }`, { operationName: 'Nope' });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('OPERATION_RESOLUTION_FAILURE');
    expect(res.body.errors?.[0]?.message).toMatch(/"Nope"/);
  });

  it('runs the operation operationName chooses among several', async () => {
    const res = await ex.query(`query A { enterprise(uscc: "${ENT}") { name } } query B { __typename }`, { operationName: 'A' });
    expect(res.status).toBe(200);
    expect(res.body.data?.['enterprise']).toEqual({ name: expect.any(String) });
  });

  it('refuses a subscription with 400', async () => {
    const res = await ex.query('subscription { __typename }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/ubscription/);
  });

  it('refuses a missing required variable with 400 BAD_USER_INPUT naming it, before any fetch', async () => {
    const before = fetched();
    const res = await ex.query('query($u: USCC!) { enterprise(uscc: $u) { name } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'u' });
    expect(res.body.errors?.[0]?.message).toMatch(/\$u/);
    expect(fetched()).toBe(before);
  });

  it('refuses a variable of the wrong type with 400 BAD_USER_INPUT naming it', async () => {
    const res = await ex.query('query($y: Int!) { regionEmissionTotals(year: $y, region: "445200") { cod } }', { agency: 'eeb', variables: { y: 'last year' } });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'y' });
  });

  it.each([['../../etc'], ['44520'], ['4452000'], ['abcdef'], ['']])('refuses region "%s" with 400 BAD_USER_INPUT naming region', async (region) => {
    const before = fetched();
    const res = await ex.query(`{ regionEmissionTotals(year: 2024, region: ${JSON.stringify(region)}) { cod } }`, { agency: 'eeb' });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'region' });
    expect(fetched()).toBe(before);
  });

  it('refuses a bad region passed as a variable, naming the variable', async () => {
    const res = await ex.query('query($r: String!) { regionEmissionTotals(year: 2024, region: $r) { cod } }', { agency: 'eeb', variables: { r: '../../etc' } });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'r' });
  });

  it('answers a 6-digit division code', async () => {
    const res = await ex.query('{ regionEmissionTotals(year: 2024, region: "445202") { cod } }', { agency: 'eeb' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });
});
