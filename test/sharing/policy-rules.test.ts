import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { openSharingPolicy, type PolicyRevisionRecord, type SharingPolicy } from '../../gateway/sharing/policy.ts';
import type { Caller } from '../../gateway/sharing/types.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../helpers/wait.ts';

const catalog = readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'));
const caller = (agency: string, purpose: string | null = null): Caller => ({ sub: `${agency}-1`, agency, roles: [], purpose });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function copyPolicies(): { tmp: string; policyDir: string } {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-rules-'));
  const policyDir = path.join(tmp, 'policies');
  cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  return { tmp, policyDir };
}

async function open(policyDir: string, tmp: string, revisions: PolicyRevisionRecord[] = []): Promise<{ policy: SharingPolicy; logs: string[] }> {
  const logs: string[] = [];
  const policy = await openSharingPolicy({ catalog, policyDir, dataDir: path.join(tmp, 'data'), redisUrl: null, unclassified: 'deny', log: (l) => logs.push(l), onRevision: (r) => revisions.push(r) });
  cleanups.push(() => policy.close());
  return { policy, logs };
}

describe('decision rules in the policy files', () => {
  it('a suspension line denies a granted read with SUSPENDED, and lifting it restores the read', async () => {
    const { tmp, policyDir } = copyPolicies();
    const { policy } = await open(policyDir, tmp);
    const tax = caller('tax', 'tax-collection');
    expect(policy.decide(tax, 'Enterprise.insuredEmployees').reason).toBe('GRANT');
    writeFileSync(path.join(policyDir, 'suspensions.csv'), 's, tax, *, 2026-01-01T00:00:00Z, 2099-01-01T00:00:00Z, violation case v-1: reads outside the grant purpose\n');
    await until(() => policy.decide(tax, 'Enterprise.insuredEmployees').reason === 'SUSPENDED');
    const d = policy.decide(tax, 'Enterprise.insuredEmployees');
    expect(d).toMatchObject({ effect: 'DENY', reason: 'SUSPENDED' });
    // Its own data stays readable; key fields too.
    expect(policy.decide(tax, 'Enterprise.annualTaxPaid').reason).toBe('PROVIDER');
    expect(policy.decide(tax, 'Enterprise.uscc').reason).toBe('KEY_FIELD');
    writeFileSync(path.join(policyDir, 'suspensions.csv'), '# lifted\n');
    await until(() => policy.decide(tax, 'Enterprise.insuredEmployees').reason === 'GRANT');
  });

  it('a suspension filed in the authority\u2019s store denies with SUSPENDED until it is lifted', async () => {
    const { tmp, policyDir } = copyPolicies();
    const revisions: PolicyRevisionRecord[] = [];
    const { policy } = await open(policyDir, tmp, revisions);
    const amr = caller('amr', 'market-supervision');
    await policy.store.apply({ op: 'suspension', suspension: { id: 's-1', agency: 'amr', dataset: 'tax.credit-rating', from: '2026-01-01T00:00:00Z', until: '2099-01-01T00:00:00Z', reason: 'case v-2' } });
    await until(() => policy.decide(amr, 'Enterprise.taxCreditGrade').reason === 'SUSPENDED');
    expect(policy.decide(amr, 'Enterprise.taxpayerStatus').reason).toBe('UNCONDITIONAL');
    await policy.store.apply({ op: 'lift-suspension', id: 's-1', reason: 'corrected' });
    await until(() => policy.decide(amr, 'Enterprise.taxCreditGrade').reason === 'GRANT');
    expect(revisions.filter((r) => r.origin === 'workflow').map((r) => [r.added, r.removed])).toEqual([
      [['s, amr, tax.credit-rating, 2026-01-01T00:00:00Z, 2099-01-01T00:00:00Z, case v-2'], []],
      [[], ['s, amr, tax.credit-rating, 2026-01-01T00:00:00Z, 2099-01-01T00:00:00Z, case v-2']],
    ]);
  });

  it('refuses a hand-added grant line without a legal basis, naming file:line', async () => {
    const { tmp, policyDir } = copyPolicies();
    writeFileSync(path.join(policyDir, 'extra.csv'), '# eeb reads the credit rating\np2, g-eeb, eeb, tax.credit-rating, environmental-enforcement, 2026-01-01, 2030-01-01\n');
    await expect(open(policyDir, tmp)).rejects.toThrow(/policies\/extra\.csv:2: a grant line in a policy file must name its legal basis/);
  });

  it('refuses a hand-added agreement line without a legal basis, naming file:line', async () => {
    const { tmp, policyDir } = copyPolicies();
    writeFileSync(path.join(policyDir, 'extra.csv'), 'p3, a-eeb, eeb, tax, tax.credit-rating, 2026-01-01, 2030-01-01, false\n');
    await expect(open(policyDir, tmp)).rejects.toThrow(/policies\/extra\.csv:1: an agreement line in a policy file must name its legal basis/);
  });

  it('refuses a grant line for a purpose the dataset\u2019s catalog entry does not list (R-13, R-24)', async () => {
    const { tmp, policyDir } = copyPolicies();
    writeFileSync(path.join(policyDir, 'extra.csv'), 'p2, g-x, eeb, hrss.enterprise-insurance, environmental-enforcement, 2026-01-01, 2030-01-01, a law\n');
    await expect(open(policyDir, tmp)).rejects.toThrow(/extra\.csv:1: purpose "environmental-enforcement" is not catalogued for hrss\.enterprise-insurance \(catalogued: tax-collection, statistics\)/);
  });

  it('refuses a grant from the authority\u2019s store for an uncatalogued purpose and logs why', async () => {
    const { tmp, policyDir } = copyPolicies();
    const { policy, logs } = await open(policyDir, tmp);
    await policy.store.apply({ op: 'grant', grant: { id: 'g-u', consumer: 'eeb', dataset: 'hrss.enterprise-insurance', purposes: ['environmental-enforcement'], validFrom: '2026-01-01', validUntil: '2030-01-01' } });
    await until(() => logs.some((l) => l.includes('g-u')));
    expect(logs.find((l) => l.includes('g-u'))).toMatch(/refused: purpose "environmental-enforcement" is not catalogued/);
    expect(policy.decide(caller('eeb', 'environmental-enforcement'), 'Enterprise.insuredEmployees').reason).toBe('GRANT_REQUIRED');
  });

  it('refuses a rule line that would allow NOT_SHARED data, and a matcher that would', async () => {
    const { tmp, policyDir } = copyPolicies();
    writeFileSync(path.join(policyDir, 'extra.csv'), 'p, NOT_SHARED, UNCONDITIONAL, allow\n');
    await expect(open(policyDir, tmp)).rejects.toThrow(/extra\.csv:1: an allow rule UNCONDITIONAL for class NOT_SHARED would open NOT_SHARED datasets \(R-4\)/);
    rmSync(path.join(policyDir, 'extra.csv'));
    const model = readFileSync(path.join(policyDir, 'model.conf'), 'utf8').replace('(p.reason == "PROVIDER" && r.sub.agency == r.obj.provider)', '(p.reason == "PROVIDER")');
    writeFileSync(path.join(policyDir, 'model.conf'), model);
    await expect(open(policyDir, tmp)).rejects.toThrow(/would let \w+ read NOT_SHARED dataset/);
  });

  it('ignores, once and without refusing the policy, a line naming a dataset the supergraph lacks', async () => {
    const { tmp, policyDir } = copyPolicies();
    writeFileSync(path.join(policyDir, 'extra.csv'), 'p2, g-gone, tax, hrss.retired-dataset, tax-collection, 2026-01-01, 2030-01-01, a law\n');
    const { policy, logs } = await open(policyDir, tmp);
    expect(logs.filter((l) => l.includes('hrss.retired-dataset'))).toEqual(["policy: policies/extra.csv:1: dataset \"hrss.retired-dataset\" is not in the supergraph's catalog: line ignored"]);
    expect(policy.decide(caller('tax', 'tax-collection'), 'Enterprise.insuredEmployees').reason).toBe('GRANT');
  });

  it('records each installed revision once, with its content hash, lines added and removed, and origin', async () => {
    const { tmp, policyDir } = copyPolicies();
    const revisions: PolicyRevisionRecord[] = [];
    const { policy } = await open(policyDir, tmp, revisions);
    expect(revisions).toHaveLength(1);
    expect(revisions[0]).toMatchObject({ origin: 'file', previous: null, removed: [] });
    expect(revisions[0]!.added).toContain('p2, g-ref-tax-hrss-1, tax, hrss.enterprise-insurance, tax-collection, 2026-01-01, 2028-01-01, 《国税地税征管体制改革方案》（2018）：社会保险费由税务部门统一征收');
    writeFileSync(path.join(policyDir, 'civil.csv'), 'p2, g-civil-1, civil, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, a regulation\n');
    await until(() => revisions.length === 2);
    expect(revisions[1]).toMatchObject({ origin: 'file', previous: revisions[0]!.hash, added: ['p2, g-civil-1, civil, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, a regulation'], removed: [] });
    await policy.store.apply({ op: 'grant', grant: { id: 'g-w', consumer: 'eeb', dataset: 'hrss.enterprise-insurance', purposes: ['statistics'], validFrom: '2026-01-01', validUntil: '2030-01-01', requestId: 'r-9' } });
    await until(() => revisions.length === 3);
    expect(revisions[2]).toMatchObject({ origin: 'workflow', added: ['p2, g-w, eeb, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, sharing request r-9'], removed: [] });
    expect(new Set(revisions.map((r) => r.hash)).size).toBe(3);
  });

  it('denies everything once every matcher in model.conf is false', async () => {
    const { tmp, policyDir } = copyPolicies();
    const { policy } = await open(policyDir, tmp);
    const tax = caller('tax', 'tax-collection');
    expect(policy.decide(tax, 'Enterprise.insuredEmployees').effect).toBe('ALLOW');
    const model = readFileSync(path.join(policyDir, 'model.conf'), 'utf8');
    writeFileSync(path.join(policyDir, 'model.conf'), model.slice(0, model.indexOf('[matchers]')) + '[matchers]\nm = false\n');
    await until(() => policy.decide(tax, 'Enterprise.insuredEmployees').effect === 'DENY', 'the model to reload');
    for (const coordinate of ['Enterprise.name', 'Enterprise.insuredEmployees', 'Person.name']) expect(policy.decide(tax, coordinate).effect).toBe('DENY');
  });
});
