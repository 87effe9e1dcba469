import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';

describe('the access log through GraphQL', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
    await ex.query(`{ enterprise(uscc: "${ENT}") { name annualTaxPaid(year: 2024) } }`, { agency: 'amr' });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('answers an auditor\u2019s accessHistory: who looked at this enterprise, what, and the decision', async () => {
    const res = await ex.query('query($k: String!) { accessHistory(entityKey: $k) { agency coordinate decision reason entityKeys } }', { agency: 'itd', roles: ['auditor'], variables: { k: ENT } });
    expect(res.body.errors).toBeUndefined();
    const history = res.body.data?.['accessHistory'] as { agency: string; coordinate: string; decision: string; reason: string }[];
    expect(history).toEqual(expect.arrayContaining([
      expect.objectContaining({ agency: 'amr', coordinate: 'Enterprise.name', decision: 'ALLOW' }),
      expect.objectContaining({ agency: 'amr', coordinate: 'Enterprise.annualTaxPaid', decision: 'DENY', reason: 'NOT_SHARED' }),
    ]));
  });

  it('pages auditRecords with a filter', async () => {
    const res = await ex.query('{ auditRecords(filter: { agency: "amr", decision: DENY }, first: 1) { records { coordinate decision } next } }', { agency: 'tax', roles: ['auditor'] });
    expect(res.body.errors).toBeUndefined();
    const page = res.body.data?.['auditRecords'] as { records: { coordinate: string; decision: string }[]; next: string | null };
    expect(page.records).toEqual([{ coordinate: 'Enterprise.annualTaxPaid', decision: 'DENY' }]);
  });

  it('refuses callers without role auditor with FORBIDDEN and no records', async () => {
    const res = await ex.query(`{ accessHistory(entityKey: "${ENT}") { agency } }`, { agency: 'itd' });
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason: 'ROLE_REQUIRED' } });
  });

  it('audits reading the log itself', async () => {
    const res = await ex.query('{ auditRecords(first: 5) { records { requestId } } }', { agency: 'itd', roles: ['auditor'] });
    const id = res.headers.get('x-request-id');
    const again = await ex.query('query($f: AuditFilter) { auditRecords(filter: $f, first: 50) { records { requestId coordinate roles } } }', { agency: 'itd', roles: ['auditor'], variables: { f: { coordinate: 'Query.auditRecords' } } });
    const records = (again.body.data?.['auditRecords'] as { records: { requestId: string; roles: string[] }[] }).records;
    expect(records.some((r) => r.requestId === id && r.roles.includes('auditor'))).toBe(true);
  });
});
