import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startExchange, type Exchange } from '../helpers/exchange.ts';

interface Revision {
  origin: string;
  instance: string;
  added: string[];
  removed: string[];
  hash: string;
  previous: string | null;
}

const HISTORY = '{ policyHistory(first: 50) { origin instance added removed hash previous } }';

describe('every policy revision is on record in the ledger', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ copyPolicies: true });
  });
  afterAll(async () => {
    await ex.close();
  });

  const history = async (): Promise<Revision[]> => {
    const r = await ex.query(HISTORY, { agency: 'itd', roles: ['auditor'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body.data?.['policyHistory'] ?? []) as Revision[];
  };
  const until = async (check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('not recorded in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('records the revision installed at start, once', async () => {
    await until(async () => (await history()).length > 0);
    const revisions = await history();
    expect(revisions).toHaveLength(1);
    expect(revisions[0]).toMatchObject({ origin: 'file', previous: null });
    expect(revisions[0]!.added).toContain('p2, g-ref-tax-hrss-1, tax, hrss.enterprise-insurance, tax-collection, 2026-01-01, 2028-01-01, 《国税地税征管体制改革方案》（2018）：社会保险费由税务部门统一征收');
  });

  it('records a file edit with its diff and origin, readable by auditors and the policy CLI', async () => {
    const line = 'p2, g-history-1, eeb, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, 《统计法》第七条';
    appendFileSync(path.join(ex.config.policyDir, 'grants.csv'), `${line}\n`);
    await until(async () => (await history()).some((r) => r.added.includes(line)));
    const [newest, before] = await history();
    expect(newest).toMatchObject({ origin: 'file', added: [line], removed: [], previous: before!.hash, instance: ex.gateway.instance });

    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'cli/policy.ts', 'history'], { cwd: ROOT, env: { ...process.env, DATA_DIR: ex.config.dataDir, POLICY_DIR: ex.config.policyDir }, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`from file  +1 -0`);
    expect(cli.stdout).toContain(`  + ${line}`);
  });

  it('records a grant approved through the workflow with origin workflow', async () => {
    const filed = await ex.query('mutation { fileSharingRequest(provider: "tax", datasets: ["tax.credit-rating"], purposes: ["environmental-enforcement"], legalBasis: "R-11", justification: "环境信用评价", validUntil: "2030-12-31") { id } }', { agency: 'eeb' });
    const id = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    await ex.query(`mutation { approveSharingRequest(id: "${id}") { status } }`, { agency: 'tax' });
    await until(async () => (await history()).some((r) => r.origin === 'workflow' && r.added.some((l) => l.includes(`g-${id}-1`))));
  });

  it('is refused to a principal without role auditor, and the refusal is audited', async () => {
    const r = await ex.query(HISTORY, { agency: 'tax' });
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason: 'ROLE_REQUIRED' } });
  });
});
