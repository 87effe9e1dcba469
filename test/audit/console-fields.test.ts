import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleProblem, type Bundle } from '../../gateway/audit/bundle.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';

/** The fields the console's auditor and policy pages use: verify, export and explain through GraphQL. */
describe('chain status, export and explain through GraphQL', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
    await ex.query(`{ enterprise(uscc: "${ENT}") { name taxCreditGrade } }`, { agency: 'eeb', purpose: 'environmental-enforcement' });
    await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('reports both logs intact to an auditor, with their record counts', async () => {
    const res = await ex.query('{ auditChainStatus { intact logs { log intact chains records problem } } }', { agency: 'itd', roles: ['auditor'] });
    expect(res.body.errors).toBeUndefined();
    const status = res.body.data?.['auditChainStatus'] as { intact: boolean; logs: { log: string; intact: boolean; records: number; problem: string | null }[] };
    expect(status.intact).toBe(true);
    expect(status.logs.map((l) => l.log)).toEqual(['audit', 'ledger']);
    expect(status.logs[0]!.records).toBeGreaterThan(0);
    expect(status.logs.every((l) => l.problem === null)).toBe(true);
  });

  it('exports a bundle that verifies, with records outside an agency auditor\u2019s scope redacted', async () => {
    const res = await ex.query('{ auditExport }', { agency: 'eeb', roles: ['auditor'] });
    expect(res.body.errors).toBeUndefined();
    const bundle = JSON.parse(res.body.data?.['auditExport'] as string) as Bundle;
    expect(bundleProblem(bundle)).toBeNull();
    const records = bundle.instances.flatMap((i) => i.records);
    const shown = records.filter((r) => !('redacted' in r)) as { agency: string; provider: string | null }[];
    expect(shown.some((r) => r.agency === 'eeb')).toBe(true);
    expect(shown.every((r) => r.agency === 'eeb' || r.provider === 'eeb')).toBe(true);
    expect(records.some((r) => 'redacted' in r)).toBe(true);
  });

  it('refuses the chain status and the export to a caller without role auditor', async () => {
    for (const q of ['{ auditChainStatus { intact } }', '{ auditExport }']) {
      const res = await ex.query(q, { agency: 'itd' });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason: 'ROLE_REQUIRED' } });
    }
  });

  it('explains a decision to a policy maintainer with the lines that made it', async () => {
    const res = await ex.query('{ explainDecision(agency: "amr", purpose: "market-supervision", coordinate: "Enterprise.taxCreditGrade") { decision reason remedy lines } }', { agency: 'itd', roles: ['policy-maintainer'] });
    expect(res.body.errors).toBeUndefined();
    const e = res.body.data?.['explainDecision'] as { decision: string; reason: string; lines: string[] };
    expect(e).toMatchObject({ decision: 'ALLOW', reason: 'GRANT' });
    expect(e.lines.some((l) => l.includes('model.conf:'))).toBe(true);
    expect(e.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^policies\/grants\.csv:\d+: p2, g-ref-amr-tax-1, amr, tax\.credit-rating, market-supervision/)]));
  });

  it('explains a denial with its remedy', async () => {
    const res = await ex.query('{ explainDecision(agency: "eeb", purpose: "environmental-enforcement", coordinate: "Enterprise.taxCreditGrade") { decision reason remedy } }', { agency: 'tax', roles: ['auditor'] });
    expect(res.body.data?.['explainDecision']).toMatchObject({ decision: 'DENY', reason: 'GRANT_REQUIRED', remedy: expect.stringContaining('tax') });
  });

  it('refuses explain to a caller without role policy-maintainer or auditor, and names a bad argument', async () => {
    const plain = await ex.query('{ explainDecision(agency: "amr", coordinate: "Enterprise.taxCreditGrade") { decision } }', { agency: 'amr' });
    expect(plain.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason: 'ROLE_REQUIRED' } });
    const bad = await ex.query('{ explainDecision(agency: "nobody", coordinate: "Enterprise.taxCreditGrade") { decision } }', { agency: 'itd', roles: ['policy-maintainer'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'agency' });
  });

  it('reports a damaged access log as broken, naming the chain but no file path', async () => {
    const auditDir = path.join(ex.config.dataDir, 'audit');
    const chain = readdirSync(auditDir)[0]!;
    const file = readdirSync(path.join(auditDir, chain)).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(path.join(auditDir, chain, file), '{"forged":true}\n');
    const res = await ex.query('{ auditChainStatus { intact logs { log intact problem } } }', { agency: 'itd', roles: ['auditor'] });
    const status = res.body.data?.['auditChainStatus'] as { intact: boolean; logs: { log: string; intact: boolean; problem: string | null }[] };
    expect(status.intact).toBe(false);
    expect(status.logs[0]).toMatchObject({ log: 'audit', intact: false });
    expect(status.logs[0]!.problem).not.toContain(ex.config.dataDir);
  });
});
