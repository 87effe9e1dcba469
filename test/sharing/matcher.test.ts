import { readFileSync } from 'node:fs';
import path from 'node:path';
import { newEnforcer, newModel } from 'casbin';
import { describe, expect, it } from 'vitest';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { buildEnforcer, type RequestObject } from '../../gateway/sharing/enforcer.ts';
import { compileMatcher } from '../../gateway/sharing/matcher.ts';
import { readPolicyDir, type PolicyType } from '../../gateway/sharing/policy-files.ts';
import { ROOT } from '../helpers/root.ts';

const catalog = readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'));

/** The shipped policy plus lines that make every reason reachable: an expired grant, a grant
 * of a commercial secret with no agreement, a suspension. */
function policyLines(): { modelText: string; rules: { ptype: PolicyType; rule: readonly string[] }[] } {
  const files = readPolicyDir(catalog, path.join(ROOT, 'policies'));
  expect(files.problems).toEqual([]);
  const rules: { ptype: PolicyType; rule: readonly string[] }[] = files.rules.map((r) => ({ ptype: r.ptype, rule: r.rule }));
  rules.push({ ptype: 'p2', rule: ['g-old', 'amr', 'hrss.enterprise-insurance', '*', '2020-01-01', '2021-01-01', 'test'] });
  rules.push({ ptype: 'p2', rule: ['g-rating', 'eeb', 'tax.credit-rating', '*', '2026-01-01', '2028-01-01', 'test'] });
  rules.push({ ptype: 'p4', rule: ['psb', '*', '2026-03-01', '2026-09-01', 'test'] });
  return { modelText: files.modelText, rules };
}

describe('the compiled matcher', () => {
  it('decides every read, with the same deciding line, exactly as Casbin’s own evaluator does', async () => {
    const { modelText, rules } = policyLines();
    const exchange = await buildEnforcer(modelText, rules);
    // Casbin as shipped: its evaluator walks the matcher's syntax tree, every registered function in scope.
    const stock = await newEnforcer(newModel(modelText));
    for (const [name, fn] of Object.entries(exchange.index.matcherFunctions())) await stock.addFunction(name, fn as never);
    for (const ptype of ['p', 'p2', 'p3', 'p4'] as const) {
      const lines = rules.filter((r) => r.ptype === ptype).map((r) => r.rule as string[]);
      if (lines.length > 0) stock.getModel().addPolicies('p', ptype, lines);
    }
    const agencies = ['amr', 'tax', 'hrss', 'eeb', 'psb', 'civil', 'nobody'];
    const purposes = ['', 'tax-collection', 'market-supervision', 'environmental-enforcement', 'social-insurance'];
    const times = ['2020-06-01', '2026-06-01', '2027-06-01', '2099-01-01'].map((t) => Date.parse(t));
    const objects: RequestObject[] = [];
    for (const ds of catalog.datasets.values()) {
      for (const unclassified of ['deny', 'allow'] as const) {
        objects.push({ id: ds.id, provider: ds.provider, class: ds.class, sensitivity: ds.sensitivity ?? '', unclassified });
      }
    }
    objects.push({ id: '', provider: '', class: 'KEY', sensitivity: '', unclassified: 'deny' });
    objects.push({ id: '', provider: '', class: 'UNCLASSIFIED', sensitivity: '', unclassified: 'deny' });
    objects.push({ id: '', provider: '', class: 'UNCLASSIFIED', sensitivity: '', unclassified: 'allow' });
    const reasons = new Set<string>();
    let compared = 0;
    for (const agency of agencies) for (const purpose of purposes) for (const obj of objects) for (const now of times) {
      const sub = { agency, purpose };
      const ours = exchange.enforce(sub, obj, now);
      expect(ours, `${agency}/${purpose || '-'} ${obj.id || obj.class} at ${new Date(now).toISOString()}`).toEqual(stock.enforceExSync(sub, obj, now));
      reasons.add(ours[1][1] ?? 'none');
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
    // The comparison covered every decision rule of rules.csv.
    expect([...reasons].sort()).toEqual(['AGREEMENT_REQUIRED', 'GRANT', 'GRANT_EXPIRED', 'GRANT_REQUIRED', 'KEY_FIELD', 'NOT_CATALOGUED', 'NOT_SHARED', 'PROVIDER', 'PURPOSE_MISMATCH', 'PURPOSE_REQUIRED', 'SUSPENDED', 'UNCLASSIFIED_ALLOWED', 'UNCONDITIONAL']);
  });

  it('reads short-circuits, loose equality, method calls and absent names as Casbin’s evaluator does', () => {
    const calls: string[] = [];
    const ctx = {
      r_sub: { agency: 'tax', n: 3 },
      f: { call(this: { tag: string }, x: string) { calls.push(`${this.tag}:${x}`); return x === 'yes'; }, tag: 'f' },
    };
    const run = (exp: string): unknown => compileMatcher(exp)!(ctx);
    expect(run('r_sub.agency == "tax" && f.call("yes")')).toBe(true);
    expect(run('r_sub.agency == "amr" && f.call("never")')).toBe(false);
    expect(run('r_sub.n == "3"')).toBe(true);
    expect(run('!(r_sub.n >= 4) || f.call("never")')).toBe(true);
    expect(run('f.absent("x")')).toBeUndefined();
    expect(() => run('missing.call("x")')).toThrow(TypeError);
    expect(run('nothing == undefined')).toBe(true);
    expect(calls).toEqual(['f:yes']);
  });

  it('leaves a matcher it does not compile (the in operator, computed members) to Casbin’s evaluator', async () => {
    expect(compileMatcher('r_sub.agency in ("amr", "tax")')).toBeNull();
    expect(compileMatcher('r_sub["agency"] == "amr"')).toBeNull();
    const e = await buildEnforcer(`[request_definition]
r = sub, obj, now
[policy_definition]
p = class, reason, eft
[policy_effect]
e = priority(p.eft) || deny
[matchers]
m = r.sub.agency in ("amr", "tax")
`, [{ ptype: 'p', rule: ['*', 'GRANT', 'allow'] }]);
    const obj: RequestObject = { id: 'x', provider: 'y', class: 'CONDITIONAL', sensitivity: '', unclassified: 'deny' };
    expect(e.enforce({ agency: 'tax', purpose: '' }, obj, 0)[0]).toBe(true);
    expect(e.enforce({ agency: 'eeb', purpose: '' }, obj, 0)[0]).toBe(false);
  });
});
