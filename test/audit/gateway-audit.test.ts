import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../gateway/audit/record.ts';
import { fileAuditRecords, verifyFileAudit } from '../helpers/audit.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const ENT2 = '91445202315608740C';

describe('the access log written by the gateway', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });
  const recordsOf = async (requestId: string | null): Promise<AuditRecord[]> => (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === requestId);

  it('writes one record per coordinate read, with who, why, which entities and the decision', async () => {
    const res = await ex.query(`{ enterprises(uscc: ["${ENT}", "${ENT2}"]) { name insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' });
    expect(res.status).toBe(200);
    const records = await recordsOf(res.headers.get('x-request-id'));
    expect(records.map((r) => r.coordinate).sort()).toEqual(['Enterprise.insuredEmployees', 'Enterprise.name', 'Query.enterprises']);
    const insured = records.find((r) => r.coordinate === 'Enterprise.insuredEmployees')!;
    expect(insured).toMatchObject({
      sub: 'tax-tester',
      agency: 'tax',
      roles: [],
      purpose: 'tax-collection',
      dataset: 'hrss.enterprise-insurance',
      provider: 'hrss',
      class: 'CONDITIONAL',
      decision: 'ALLOW',
      reason: 'GRANT',
      grantId: 'g-ref-tax-hrss-1',
      count: 2,
      instance: ex.gateway.instance,
    });
    expect([...insured.entityKeys].sort()).toEqual([ENT2, ENT].sort());
    expect([...records.find((r) => r.coordinate === 'Query.enterprises')!.entityKeys].sort()).toEqual([ENT2, ENT].sort());
    expect(insured.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records a denied field as DENY with its reason and the entities it was about', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { annualTaxPaid(year: 2024) } }`, { agency: 'amr' });
    const records = await recordsOf(res.headers.get('x-request-id'));
    expect(records.find((r) => r.coordinate === 'Enterprise.annualTaxPaid')).toMatchObject({ decision: 'DENY', reason: 'NOT_SHARED', entityKeys: [ENT], dataset: 'tax.tax-payments', grantId: null });
  });

  it('records allowed and denied fields of a mixed query, each exactly once', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { name status taxCreditGrade emissions(year: 2024) { cod } } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    const records = await recordsOf(res.headers.get('x-request-id'));
    const byCoordinate = Object.fromEntries(records.map((r) => [r.coordinate, `${r.decision} ${r.reason}`]));
    expect(byCoordinate).toEqual({
      'Query.enterprise': 'ALLOW UNCONDITIONAL',
      'Enterprise.name': 'ALLOW UNCONDITIONAL',
      'Enterprise.status': 'ALLOW UNCONDITIONAL',
      'Enterprise.taxCreditGrade': 'DENY GRANT_REQUIRED',
      'Enterprise.emissions': 'DENY GRANT_REQUIRED',
    });
  });

  it('records unpublished emission totals as DENY UNPUBLISHED', async () => {
    const res = await ex.query('{ regionEmissionTotals(year: 2026, region: "445200") { cod } }', { agency: 'stats' });
    expect(res.body.data).toEqual({ regionEmissionTotals: null });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason: 'UNPUBLISHED', coordinate: 'Query.regionEmissionTotals' } });
    const records = await recordsOf(res.headers.get('x-request-id'));
    expect(records.find((r) => r.coordinate === 'Query.regionEmissionTotals')).toMatchObject({ decision: 'DENY', reason: 'UNPUBLISHED' });
  });

  it('keeps the chain intact across many concurrent requests', async () => {
    await Promise.all(Array.from({ length: 40 }, () => ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'eeb' })));
    expect(await verifyFileAudit(ex.config.dataDir)).toMatchObject({ ok: true });
  });

  it('fails closed with 503 AUDIT_UNAVAILABLE and no data when the log cannot be written, and recovers by itself', async () => {
    const auditDir = path.join(ex.config.dataDir, 'audit');
    const dir = path.join(auditDir, readdirSync(auditDir).find((d) => d === ex.gateway.instance)!);
    renameSync(dir, `${dir}.away`);
    writeFileSync(dir, 'blocked');
    try {
      const res = await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'tax' });
      expect(res.status).toBe(503);
      expect(res.body.errors?.[0]?.extensions?.['code']).toBe('AUDIT_UNAVAILABLE');
      expect(res.body).not.toHaveProperty('data');
    } finally {
      rmSync(dir);
      renameSync(`${dir}.away`, dir);
    }
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'tax' });
    expect(res.status).toBe(200);
    expect(await recordsOf(res.headers.get('x-request-id'))).toHaveLength(2);
    expect(await verifyFileAudit(ex.config.dataDir)).toMatchObject({ ok: true });
  });
});
