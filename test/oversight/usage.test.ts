import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cstDate } from '../../subgraphs/exchange/workdays.ts';
import { quarterOf, quarterSpan, UsageCounts } from '../../subgraphs/exchange/oversight/usage.ts';
import { ROOT, startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const Q = 'query($f: String!, $t: String!, $g: [UsageDimension!]!) { usageStatistics(from: $f, to: $t, groupBy: $g) { provider consumer dataset purpose quarter allowed denied } }';

interface Row { provider: string | null; consumer: string | null; dataset: string | null; purpose: string | null; quarter: string | null; allowed: number; denied: number }

function rows(res: GraphQLResponse): Row[] {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data?.['usageStatistics'] as Row[];
}

describe('usage statistics from the access log (R-26)', () => {
  let ex: Exchange;
  const today = cstDate(new Date());
  const span = { f: cstDate(new Date(Date.now() - 86_400_000)), t: cstDate(new Date(Date.now() + 86_400_000)) };
  beforeAll(async () => {
    ex = await startExchange();
    for (let i = 0; i < 2; i++) expect((await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' })).body.errors).toBeUndefined();
    expect((await ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'eeb', purpose: 'environmental-enforcement' })).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
  afterAll(async () => {
    await ex.close();
  });

  it('counts reads allowed and denied by consumer and dataset for the authority', async () => {
    const all = rows(await ex.query(Q, { agency: 'itd', roles: ['coordinator'], variables: { ...span, g: ['CONSUMER', 'DATASET', 'PURPOSE', 'QUARTER'] } }));
    expect(all).toContainEqual({ provider: null, consumer: 'tax', dataset: 'hrss.enterprise-insurance', purpose: 'tax-collection', quarter: quarterOf(today), allowed: 2, denied: 0 });
    expect(all).toContainEqual({ provider: null, consumer: 'eeb', dataset: 'tax.credit-rating', purpose: 'environmental-enforcement', quarter: quarterOf(today), allowed: 0, denied: 1 });
  });

  it('shows an agency only the reads where it is the provider or the consumer', async () => {
    const hrss = rows(await ex.query(Q, { agency: 'hrss', variables: { ...span, g: ['PROVIDER', 'CONSUMER'] } }));
    expect(hrss).toEqual([{ provider: 'hrss', consumer: 'tax', dataset: null, purpose: null, quarter: null, allowed: 2, denied: 0 }]);
    expect(rows(await ex.query(Q, { agency: 'psb', variables: { ...span, g: [] } }))).toEqual([]);
  });

  it('writes the quarterly report as JSON and CSV (cli/report.ts quarterly), and refuses a quarter out of range in one line', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'exchange-report-'));
    try {
      const [year, q] = quarterOf(today).split('-Q');
      const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/report.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: ex.config.dataDir }, encoding: 'utf8', timeout: 30_000 });
      const r = run('quarterly', '--year', year!, '--quarter', q!, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/reads allowed/);
      const json = JSON.parse(readFileSync(path.join(out, `quarterly-${year}-Q${q}.json`), 'utf8')) as { usage: Row[] };
      expect(json.usage).toContainEqual({ provider: 'hrss', consumer: 'tax', dataset: 'hrss.enterprise-insurance', purpose: 'tax-collection', quarter: null, allowed: 2, denied: 0 });
      expect(readFileSync(path.join(out, `quarterly-${year}-Q${q}.csv`), 'utf8')).toContain(`${year}-Q${q},hrss,tax,hrss.enterprise-insurance,tax-collection,2,0`);
      const bad = run('quarterly', '--year', year!, '--quarter', '5');
      expect(bad.status).toBe(1);
      expect(bad.stderr.trim()).toBe('report: --quarter must be 1 to 4, got "5". usage: npm run report -- quarterly --year YYYY --quarter 1-4 [--out DIR]');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses a span that is not two ISO dates in order', async () => {
    const res = await ex.query(Q, { agency: 'itd', roles: ['coordinator'], variables: { f: span.t, t: span.f, g: [] } });
    expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'to' } });
  });
});

describe('usage counts', () => {
  it('sums days into quarters and leaves out fields of no dataset', () => {
    const c = new UsageCounts();
    const rec = (ts: string, decision: 'ALLOW' | 'DENY', dataset: string | null = 'tax.credit-rating') => c.add({ ts, agency: 'amr', provider: 'tax', dataset, purpose: 'market-supervision', decision });
    rec('2026-03-31T15:59:59Z', 'ALLOW'); // 2026-03-31 23:59:59 in China: the first quarter
    rec('2026-03-31T16:00:00Z', 'DENY'); // 2026-04-01 00:00 in China: the second
    rec('2026-05-01T00:00:00Z', 'ALLOW');
    rec('2026-05-01T00:00:00Z', 'ALLOW', null);
    expect(c.rows({ from: '2026-01-01', to: '2026-12-31', groupBy: ['QUARTER'], agency: null })).toEqual([
      { provider: null, consumer: null, dataset: null, purpose: null, quarter: '2026-Q1', allowed: 1, denied: 0 },
      { provider: null, consumer: null, dataset: null, purpose: null, quarter: '2026-Q2', allowed: 1, denied: 1 },
    ]);
    expect(quarterSpan(2026, 1)).toEqual({ from: '2026-01-01', to: '2026-03-31' });
    expect(quarterSpan(2024, 4)).toEqual({ from: '2024-10-01', to: '2024-12-31' });
  });
});
