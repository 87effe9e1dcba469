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

  describe('the policy\u2019s lines an agency auditor is shown', () => {
    // A grant filed between hrss and psb: tax is neither consumer nor provider.
    beforeAll(async () => {
      const changed = new Promise<void>((resolve) => {
        const off = ex.gateway.policy.onChange(() => {
          off();
          resolve();
        });
      });
      await ex.gateway.policy.store.apply({ op: 'grant', grant: { id: 'g-scope-civil-psb', consumer: 'civil', dataset: 'psb.population-basic', purposes: ['civil-affairs'], validFrom: '2026-01-01', validUntil: '2099-01-01' } });
      await changed;
    });
    const HISTORY = '{ policyHistory(first: 100) { added removed } }';
    const lines = async (agency: string): Promise<string[]> => {
      const res = await ex.query(HISTORY, { agency, roles: ['auditor'] });
      expect(res.body.errors).toBeUndefined();
      return (res.body.data?.['policyHistory'] as { added: string[]; removed: string[] }[]).flatMap((r) => [...r.added, ...r.removed]);
    };

    it('policyHistory shows a tax auditor no grant line between civil and psb, and the itd and psb auditors see it', async () => {
      await until(async () => (await lines('itd')).some((l) => l.includes('g-scope-civil-psb')));
      expect((await lines('psb')).some((l) => l.includes('g-scope-civil-psb'))).toBe(true);
      const tax = await lines('tax');
      expect(tax.some((l) => l.includes('g-scope-civil-psb'))).toBe(false);
      // Nor the standing hrss/psb lines of the policy files, while its own and the rules stay.
      expect(tax.some((l) => l.startsWith('p2, g-ref-hrss-psb-1'))).toBe(false);
      expect(tax.some((l) => l.startsWith('p2, g-ref-tax-hrss-1'))).toBe(true);
      expect(tax.some((l) => l.startsWith('p, CONDITIONAL, GRANT'))).toBe(true);
    });

    it('explainDecision(agency: "civil") shows a tax auditor the decision but not civil\u2019s grant with psb; an itd auditor sees the line', async () => {
      const q = '{ explainDecision(agency: "civil", coordinate: "Person.name", purpose: "civil-affairs") { decision reason lines } }';
      const asTax = (await ex.query(q, { agency: 'tax', roles: ['auditor'] })).body.data?.['explainDecision'] as { reason: string; lines: string[] };
      const asItd = (await ex.query(q, { agency: 'itd', roles: ['auditor'] })).body.data?.['explainDecision'] as { reason: string; lines: string[] };
      expect(asItd.lines.some((l) => l.includes('g-scope-civil-psb'))).toBe(true);
      expect(asTax.reason).toBe(asItd.reason);
      expect(asTax.lines.some((l) => l.includes('g-scope-civil-psb'))).toBe(false);
      expect(asTax.lines.some((l) => l.includes('not shown'))).toBe(true);
    });
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
}
