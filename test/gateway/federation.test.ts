import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENTERPRISE_KEYS } from '../../subgraphs/kit/synthetic.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

describe('the federated exchange', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
  });
  afterAll(async () => {
    await ex.close();
  });
  beforeEach(() => {
    for (const spy of ex.spies.values()) spy.requests.length = 0;
  });

  it('joins one enterprise\u2019s registration, tax, social-insurance and environment data for tax in one query', async () => {
    const res = await ex.query(
      `query Joined($uscc: USCC!) {
        enterprise(uscc: $uscc) {
          uscc name legalRepresentative registeredCapital establishedOn address status
          taxpayerStatus taxCreditGrade
          insuredEmployees
          dischargePermit { number category issuedOn validUntil }
        }
      }`,
      { agency: 'tax', purpose: 'tax-collection', variables: { uscc: '91445202MA4W3K7PX2' } },
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const e = res.body.data?.['enterprise'] as Record<string, unknown>;
    expect(e['uscc']).toBe('91445202MA4W3K7PX2');
    for (const field of ['name', 'legalRepresentative', 'registeredCapital', 'establishedOn', 'address', 'status', 'taxpayerStatus', 'taxCreditGrade', 'insuredEmployees']) {
      expect(e[field], field).not.toBeNull();
    }
    expect(e['dischargePermit']).toMatchObject({ number: expect.any(String), validUntil: expect.any(String) });
    // Another agency's data in the answer: the R-25 notice travels with it.
    expect(res.body.extensions?.['sharing']).toMatchObject({ notice: expect.stringContaining('consent') });
    const asked = [...ex.spies].filter(([, s]) => s.requests.length > 0).map(([n]) => n).sort();
    expect(asked).toEqual(['amr', 'eeb', 'hrss', 'tax']);
  });

  it('resolves enterprises(uscc: [100 keys]) with exactly one request per subgraph, each one data access', async () => {
    const keys = ENTERPRISE_KEYS.slice(0, 100);
    const res = await ex.query(
      'query Many($keys: [USCC!]!) { enterprises(uscc: $keys) { uscc name taxpayerStatus insuredEmployees dischargePermit { number } } }',
      { agency: 'tax', purpose: 'tax-collection', variables: { keys } },
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const list = res.body.data?.['enterprises'] as { uscc: string }[];
    expect(list.map((e) => e.uscc)).toEqual(keys);
    for (const name of ['amr', 'tax', 'hrss', 'eeb']) {
      const spy = ex.spies.get(name)!;
      expect(spy.requests, name).toHaveLength(1);
      expect(spy.requests[0]!.dataAccesses, `${name} data accesses`).toBe(1);
    }
    for (const name of ['psb', 'civil', 'exchange']) expect(ex.spies.get(name)!.requests, name).toHaveLength(0);
  });

  it('refuses a USCC with a wrong check character as BAD_USER_INPUT naming the argument, before any fetch', async () => {
    const res = await ex.query('{ enterprise(uscc: "91445202MA4W3K7PX3") { name } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'uscc' });
    expect(res.body.errors?.[0]?.message).toContain('check character');
    expect([...ex.spies.values()].every((s) => s.requests.length === 0)).toBe(true);
  });

  it('refuses a bad USCC inside a list variable, naming the variable', async () => {
    const res = await ex.query('query($k: [USCC!]!) { enterprises(uscc: $k) { name } }', { variables: { k: ['91445202MA4W3K7PX2', '91445202315608740D'] } });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'k' });
    expect([...ex.spies.values()].every((s) => s.requests.length === 0)).toBe(true);
  });

  it('refuses an ID number with an impossible birth date as BAD_USER_INPUT', async () => {
    const res = await ex.query('{ person(idNumber: "445202198502301234") { idNumber } }', { agency: 'hrss' });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'idNumber' });
    expect(res.body.errors?.[0]?.message).toContain('birth date');
  });

  it('answers null for an enterprise amr has not registered', async () => {
    const res = await ex.query('{ enterprise(uscc: "91350100M000100Y43") { name } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ enterprise: null });
  });

  it('reports every subgraph reachable on GET /health', async () => {
    const res = await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; subgraphs: Record<string, { reachable: boolean }> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.subgraphs).sort()).toEqual(['amr', 'civil', 'eeb', 'exchange', 'hrss', 'psb', 'tax']);
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const res = await fetch(new URL('/nope', ex.url));
    expect(res.status).toBe(404);
  });

});

describe('a subgraph that does not answer', () => {
  let ex: Exchange;
  beforeAll(async () => {
    // Port 9 (discard) is closed on loopback: civil is unreachable.
    ex = await startExchange({ env: { SUBGRAPH_URL_CIVIL: 'http://127.0.0.1:9/graphql' } });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('yields SUBGRAPH_UNAVAILABLE naming the agency, with no URL or stack in the answer', async () => {
    const res = await ex.query('{ person(idNumber: "445202198503151238") { idNumber maritalStatus } }', { agency: 'civil' });
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'civil' });
    expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|:9\/|\.ts:\d+|node_modules|ECONNREFUSED/);
  });

  it('reports the exchange degraded on GET /health with civil unreachable', async () => {
    const res = await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; subgraphs: Record<string, { reachable: boolean }> };
    expect(body.status).toBe('degraded');
    expect(body.subgraphs['civil']?.reachable).toBe(false);
    expect(body.subgraphs['amr']?.reachable).toBe(true);
  });
});
