import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function policy(args: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/policy.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: path.join(tmp, 'data'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

function copyPolicies(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(ROOT, 'policies'), dir, { recursive: true });
  return dir;
}

describe('npm run policy', () => {
  it('check accepts the shipped policy with exit 0', () => {
    const r = policy(['check']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('policy ok: 14 rule(s), 3 grant(s), 2 agreement(s), 0 suspension(s), 23 role reservation(s)');
  });

  it('check exits 1 naming file:line for a broken line and for a line opening NOT_SHARED data', () => {
    const dir = copyPolicies('broken');
    writeFileSync(path.join(dir, 'bad.csv'), '# two bad lines\np2, g-1, amr, tax.credit-rating\np2, g-2, amr, tax.tax-payments, market-supervision, 2026-01-01, 2028-01-01, a law\n');
    const r = policy(['check'], { POLICY_DIR: dir });
    expect(r.status).toBe(1);
    expect(r.out).toContain('broken/bad.csv:2: a grant line has 8 fields');
    expect(r.out).toContain('broken/bad.csv:3: dataset tax.tax-payments is NOT_SHARED: no grant can open it to amr (R-4)');
  });

  it('explain prints the decision, reason and the grant and agreement lines that made it', () => {
    const r = policy(['explain', '--agency', 'amr', '--purpose', 'market-supervision', '--at', '2026-06-01T00:00:00Z', 'Enterprise.taxCreditGrade']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('decision: ALLOW GRANT');
    expect(r.out).toMatch(/line: +policies\/model\.conf:\d+: \(p\.reason == "GRANT" && /);
    expect(r.out).toMatch(/line: +policies\/rules\.csv:\d+: p, CONDITIONAL, GRANT, allow/);
    expect(r.out).toMatch(/line: +policies\/grants\.csv:\d+: p2, g-ref-amr-tax-1, amr, tax\.credit-rating, .*\[standing, legal basis: /);
    expect(r.out).toMatch(/line: +policies\/agreements\.csv:\d+: p3, a-ref-amr-tax-1/);
  });

  it('explain gives the remedy of a denial', () => {
    const r = policy(['explain', '--agency', 'eeb', '--purpose', 'environmental-enforcement', 'Enterprise.taxCreditGrade']);
    expect(r.out).toContain('decision: DENY GRANT_REQUIRED');
    expect(r.out).toContain('remedy:   File a sharing request to tax for dataset tax.credit-rating (R-21).');
  });

  it.each([
    [['explain', '--agency', 'nobody', 'Enterprise.name'], 'policy: unknown agency "nobody"'],
    [['explain', '--agency', 'tax', '--purpose', 'fishing', 'Enterprise.name'], 'policy: unknown purpose "fishing"'],
    [['explain', '--agency', 'tax', 'Enterprise.nosuchfield'], 'policy: unknown coordinate "Enterprise.nosuchfield"'],
  ])('explain refuses %j with one line and exit 1', (args, line) => {
    const r = policy(args);
    expect(r.status).toBe(1);
    expect(r.out.trim().split('\n')[0]).toContain(line);
  });

  it('--help prints every command', () => {
    const r = policy(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['check', 'explain', 'test', 'history']) expect(r.out).toContain(`npm run policy -- ${c}`);
  });

  it('history says when no revisions are on record', () => {
    const r = policy(['history']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('no policy revisions on record');
  });

  it('check exits 1 when every matcher is true: the enforcer itself would open NOT_SHARED data', () => {
    const dir = copyPolicies('open');
    const model = readFileSync(path.join(dir, 'model.conf'), 'utf8');
    writeFileSync(path.join(dir, 'model.conf'), model.slice(0, model.indexOf('[matchers]')) + '[matchers]\nm = true\n');
    const r = policy(['check'], { POLICY_DIR: dir });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/would let \w+ read NOT_SHARED dataset/);
  });

  it('test passes the shipped expectation tables, which cover every policy reason code', () => {
    const r = policy(['test']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('test exits 1 naming file:line of a wrong expectation', () => {
    const dir = copyPolicies('wrong');
    writeFileSync(path.join(dir, 'tests', 'wrong.csv'), 'agency,roles,purpose,coordinate,decision,reason,at\namr,,market-supervision,Enterprise.annualTaxPaid,ALLOW,GRANT,2026-06-01T00:00:00Z\n');
    const r = policy(['test'], { POLICY_DIR: dir });
    expect(r.status).toBe(1);
    expect(r.out).toContain('wrong.csv:2: amr market-supervision Enterprise.annualTaxPaid: expected ALLOW GRANT, got DENY NOT_SHARED');
  });
});
