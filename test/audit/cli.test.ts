import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

function audit(dataDir: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/audit.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('npm run audit', () => {
  let ex: Exchange;
  let dataDir: string;
  beforeAll(async () => {
    ex = await startExchange();
    dataDir = ex.config.dataDir;
    await ex.query('{ enterprise(uscc: "91445202MA4W3K7PX2") { name annualTaxPaid(year: 2024) } }', { agency: 'amr' });
    await ex.query('{ enterprise(uscc: "91445202315608740C") { name } }', { agency: 'eeb' });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('query --json prints one matching record per line', () => {
    const r = audit(dataDir, ['query', '--entity', '91445202MA4W3K7PX2', '--decision', 'DENY', '--json']);
    expect(r.status).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { coordinate: string; agency: string });
    expect(lines).toEqual([expect.objectContaining({ coordinate: 'Enterprise.annualTaxPaid', agency: 'amr' })]);
  });

  it('query prints a readable table by default', () => {
    const r = audit(dataDir, ['query', '--agency', 'eeb']);
    expect(r.out).toMatch(/^time +agency +purpose +field +decision/m);
    expect(r.out).toContain('Enterprise.name');
  });

  it('rejects a bad filter with one clear line and exit 2', () => {
    const r = audit(dataDir, ['query', '--decision', 'MAYBE']);
    expect(r.status).toBe(2);
    expect(r.out.trim()).toBe('audit: --decision must be ALLOW or DENY, got "MAYBE"');
  });

  it('export writes a bundle that verify --bundle accepts, and rejects once tampered', () => {
    const bundle = path.join(dataDir, 'bundle.json');
    expect(audit(dataDir, ['export', '--since', '2020-01-01', '--out', bundle]).status).toBe(0);
    const ok = audit(dataDir, ['verify', '--bundle', bundle]);
    expect(ok.status).toBe(0);
    expect(ok.out).toContain('signatures valid');
    writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('"agency":"eeb"', '"agency":"amr"'));
    const bad = audit(dataDir, ['verify', '--bundle', bundle]);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/bundle BROKEN: .* (hash does not match|prev does not match)/);
    rmSync(bundle);
  });

  it('verify exits 0 on an intact log and 1 naming the first bad record of an edited one', () => {
    expect(audit(dataDir, ['verify']).status).toBe(0);
    const segment = path.join(dataDir, 'audit', ex.gateway.instance, '000001.jsonl');
    const text = readFileSync(segment, 'utf8');
    writeFileSync(segment, text.replace('"agency":"eeb"', '"agency":"tax"'));
    const r = audit(dataDir, ['verify']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/audit log BROKEN at .*000001\.jsonl:\d+ .*edited/);
    writeFileSync(segment, text);
  });
});
