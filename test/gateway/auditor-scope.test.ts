import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const PERSON = '445202198503151238';

interface Row {
  agency: string;
  provider: string | null;
  coordinate: string;
  decision: string;
  reason: string | null;
}
const ROW = 'agency provider coordinate decision reason';

describe('what each auditor reads of the access log', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
    // eeb reads amr's registration; hrss reads psb's population data; tax reads its own.
    await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'eeb' });
    await ex.query(`{ person(idNumber: "${PERSON}") { name } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    await ex.query(`{ enterprise(uscc: "${ENT}") { taxpayerStatus } }`, { agency: 'tax' });
  });
  afterAll(async () => {
    await ex.close();
  });

  const records = async (agency: string, filter = '{}'): Promise<Row[]> => {
    const res = await ex.query(`{ auditRecords(filter: ${filter}, first: 1000) { records { ${ROW} } } }`, { agency, roles: ['auditor'] });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data?.['auditRecords'] as { records: Row[] }).records;
  };

  it('an itd auditor reads every agency\u2019s records', async () => {
    const all = await records('itd');
    expect([...new Set(all.map((r) => r.agency))].sort()).toEqual(['eeb', 'hrss', 'tax']);
  });

  it('a tax auditor reads only records where tax is the consumer or the provider', async () => {
    const mine = await records('tax');
    expect(mine.length).toBeGreaterThan(0);
    for (const r of mine) expect(r.agency === 'tax' || r.provider === 'tax', JSON.stringify(r)).toBe(true);
    expect(mine.some((r) => r.coordinate === 'Person.name')).toBe(false);
  });

  it('a psb auditor sees hrss reading psb\u2019s population data, and nothing of eeb\u2019s reads of amr', async () => {
    const mine = await records('psb');
    expect(mine).toEqual(expect.arrayContaining([expect.objectContaining({ agency: 'hrss', provider: 'psb', coordinate: 'Person.name' })]));
    expect(mine.some((r) => r.agency === 'eeb')).toBe(false);
  });

  it('a filter cannot widen an auditor\u2019s scope', async () => {
    expect(await records('tax', '{ agency: "eeb" }')).toEqual([]);
  });

  it('accessHistory is scoped the same way', async () => {
    const q = `{ accessHistory(entityKey: "${ENT}") { ${ROW} } }`;
    const amr = (await ex.query(q, { agency: 'amr', roles: ['auditor'] })).body.data?.['accessHistory'] as Row[];
    expect(amr.some((r) => r.agency === 'eeb' && r.provider === 'amr')).toBe(true);
    const civil = (await ex.query(q, { agency: 'civil', roles: ['auditor'] })).body.data?.['accessHistory'] as Row[];
    expect(civil).toEqual([]);
  });

  it('refuses a non-auditor\u2019s read of the log at the gateway (nothing asked of the exchange subgraph) and records it as DENY ROLE_REQUIRED', async () => {
    const spy = ex.spies.get('exchange')!;
    const before = spy.requests.length;
    const res = await ex.query('{ auditRecords(first: 5) { records { coordinate } } }', { agency: 'tax' });
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      sharing: { coordinate: 'Query.auditRecords', dataset: 'itd.audit-log', provider: 'itd', reason: 'ROLE_REQUIRED', remedy: expect.stringContaining('auditor') },
    });
    expect(spy.requests.length).toBe(before);
    const denied = await records('itd', '{ coordinate: "Query.auditRecords", decision: DENY }');
    expect(denied).toEqual([expect.objectContaining({ agency: 'tax', decision: 'DENY', reason: 'ROLE_REQUIRED' })]);
  });
});
