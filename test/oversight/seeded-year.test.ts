import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import { ids, type Actor, type LedgerEvent } from '../../ledger/events.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { ROOT, startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;
const RECORDS = 2000;
/** 2025-01-01 00:00 in China: the seeded access history fills the year 2025 there. */
const START = '2024-12-31T16:00:00.000Z';
const DAY = 86_400_000;

function ok<T>(res: GraphQLResponse, field: string): T {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data?.[field] as T;
}

interface Row { agency: string; requestsReceived: number; answeredOnTime: number; answeredLate: number; missed: number; refusals: number; refusalsOverturned: number; complaintsUpheld: number; datasetsOverdue: number | null; score: number; result: string }

/** The seeded history's reads by quarter (China Standard Time), counted here on their own. */
function expectedByQuarter(keep: (r: ReturnType<typeof seededAccess>) => boolean = () => true) {
  const q = new Map<string, { allowed: number; denied: number }>();
  for (let i = 0; i < RECORDS; i++) {
    const r = seededAccess(i, { total: RECORDS, start: START, spanDays: 365 });
    if (!keep(r)) continue;
    const month = Number(new Date(Date.parse(r.ts) + 8 * 3_600_000).toISOString().slice(5, 7));
    const key = `2025-Q${Math.ceil(month / 3)}`;
    const c = q.get(key) ?? { allowed: 0, denied: 0 };
    if (r.decision === 'ALLOW') c.allowed++;
    else c.denied++;
    q.set(key, c);
  }
  return [...q.entries()].sort().map(([quarter, c]) => ({ quarter, ...c }));
}

describe('a seeded year of activity (2025) gives known statistics and a known evaluation, through the gateway', () => {
  let ex: Exchange;
  let ledger: Ledger;
  let clock = new Date(START);
  const at = (iso: string) => (clock = new Date(iso));
  beforeAll(async () => {
    ex = await startExchange();
    ledger = await openLedger({ dataDir: ex.config.dataDir, redisUrl: null, now: () => clock });
    const record = (when: string, event: LedgerEvent, agency: string) => {
      at(when);
      return ledger.record(event, { sub: `${agency}-clerk`, agency } satisfies Actor);
    };
    const file = async (consumer: string, provider: string, dataset: string, purpose: string, receivedAt: string) =>
      ids.request({ seq: (await record(receivedAt, { type: 'request.filed', data: { consumer, provider, datasets: [dataset], purposes: [purpose], legalBasis: '履职需要', justification: '监管', validUntil: '2027-12-31', receivedAt } }, consumer)).seq, data: { receivedAt } });
    const days = (iso: string, n: number) => new Date(Date.parse(iso) + n * DAY).toISOString();

    // tax gets one request a month from amr: answers eight in two days, two a month late, never answers two.
    for (let m = 1; m <= 12; m++) {
      const received = `2025-${String(m).padStart(2, '0')}-06T02:00:00.000Z`;
      const id = await file('amr', 'tax', 'tax.credit-rating', 'market-supervision', received);
      if (m <= 8) await record(days(received, 2), { type: 'request.approved', data: { id, conditions: null, grants: [] } }, 'tax');
      else if (m <= 10) await record(days(received, 30), { type: 'request.approved', data: { id, conditions: null, grants: [] } }, 'tax');
    }
    // hrss: three requests from tax, answered in time; the first refused, escalated and overturned.
    const refused = await file('tax', 'hrss', 'hrss.pension-insurance', 'tax-collection', '2025-03-10T02:00:00.000Z');
    await record('2025-03-11T02:00:00.000Z', { type: 'request.refused', data: { id: refused, reasons: '不予提供' } }, 'hrss');
    await record('2025-03-13T02:00:00.000Z', { type: 'request.escalated', data: { id: refused, reasons: '拒绝理由不成立' } }, 'tax');
    await record('2025-03-20T02:00:00.000Z', { type: 'request.decided', data: { id: refused, approve: true, reasons: '应予共享', grants: [] } }, 'itd');
    for (const received of ['2025-06-10T02:00:00.000Z', '2025-09-10T02:00:00.000Z']) {
      const id = await file('tax', 'hrss', 'hrss.pension-insurance', 'tax-collection', received);
      await record(days(received, 3), { type: 'request.approved', data: { id, conditions: null, grants: [] } }, 'hrss');
    }
    // A complaint of eeb against hrss, answered and upheld.
    const complaint = ids.complaint((await record('2025-04-01T02:00:00.000Z', { type: 'complaint.filed', data: { complaint: { complainant: 'eeb', against: 'hrss', ground: 'LATE', description: '拖延提供参保数据', requestId: null, filedAt: '2025-04-01T02:00:00.000Z' } } }, 'eeb')).seq);
    await record('2025-04-03T02:00:00.000Z', { type: 'complaint.answered', data: { id: complaint, answer: '系统升级所致' } }, 'hrss');
    await record('2025-04-20T02:00:00.000Z', { type: 'complaint.decided', data: { id: complaint, upheld: true, reasons: '理由不成立' } }, 'itd');
    // Updates reported in 2025: tax's quarterly credit ratings in time for the fourth quarter; hrss's monthly insurance data last in November.
    await record('2025-10-05T02:00:00.000Z', { type: 'dataset.updated', data: { dataset: 'tax.credit-rating', asOf: '2025-10-05T02:00:00.000Z' } }, 'tax');
    await record('2025-11-01T02:00:00.000Z', { type: 'dataset.updated', data: { dataset: 'hrss.enterprise-insurance', asOf: '2025-11-01T02:00:00.000Z' } }, 'hrss');

    // The year's access history, written by a gateway instance of its own into the real access log.
    const store = await openAuditStore({ dataDir: ex.config.dataDir, redisUrl: null, instance: 'seed-2025' });
    for (let i = 0; i < RECORDS; i += 100) await store.append(Array.from({ length: 100 }, (_, k) => seededAccess(i + k, { total: RECORDS, start: START, spanDays: 365 })));
    await store.close();
  });
  afterAll(async () => {
    await ledger.close();
    await ex.close();
  });

  it('counts the year’s reads by quarter for the authority, and an agency’s own reads for the agency', async () => {
    const Q = 'query($g: [UsageDimension!]!) { usageStatistics(from: "2025-01-01", to: "2025-12-31", groupBy: $g) { quarter provider consumer allowed denied } }';
    const all = ok<{ quarter: string; allowed: number; denied: number }[]>(await ex.query(Q, { ...COORDINATOR, variables: { g: ['QUARTER'] } }), 'usageStatistics');
    expect(all.map(({ quarter, allowed, denied }) => ({ quarter, allowed, denied }))).toEqual(expectedByQuarter());
    expect(all.reduce((n, r) => n + r.allowed + r.denied, 0)).toBe(RECORDS);
    const hrss = ok<{ quarter: string; allowed: number; denied: number }[]>(await ex.query(Q, { agency: 'hrss', variables: { g: ['QUARTER'] } }), 'usageStatistics');
    expect(hrss.map(({ quarter, allowed, denied }) => ({ quarter, allowed, denied }))).toEqual(expectedByQuarter((r) => r.agency === 'hrss' || r.provider === 'hrss'));
  });

  it('evaluates every agency from the year’s conduct, published and reported as JSON and CSV (npm run report -- evaluation)', async () => {
    const Q = '{ annualEvaluation(year: 2025) { method draft { agency requestsReceived answeredOnTime answeredLate missed refusals refusalsOverturned complaintsUpheld datasetsOverdue score result } } }';
    const evaluation = ok<{ method: string; draft: Row[] }>(await ex.query(Q, COORDINATOR), 'annualEvaluation');
    expect(evaluation.method).toContain('datasets overdue');
    const row = (agency: string) => evaluation.draft.find((r) => r.agency === agency);
    expect(row('tax')).toEqual({ agency: 'tax', requestsReceived: 12, answeredOnTime: 8, answeredLate: 2, missed: 2, refusals: 0, refusalsOverturned: 0, complaintsUpheld: 0, datasetsOverdue: 0, score: 70, result: 'FAIR' });
    expect(row('hrss')).toEqual({ agency: 'hrss', requestsReceived: 3, answeredOnTime: 3, answeredLate: 0, missed: 0, refusals: 1, refusalsOverturned: 1, complaintsUpheld: 1, datasetsOverdue: 1, score: 75, result: 'FAIR' });
    for (const r of evaluation.draft.filter((x) => x.agency !== 'tax' && x.agency !== 'hrss')) expect(r).toMatchObject({ requestsReceived: 0, score: 100, result: 'GOOD' });

    const published = ok<{ id: string }>(await ex.query('mutation { publishEvaluation(year: 2025) { id } }', COORDINATOR), 'publishEvaluation');
    const out = mkdtempSync(path.join(tmpdir(), 'exchange-evaluation-'));
    try {
      const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/report.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: ex.config.dataDir }, encoding: 'utf8', timeout: 30_000 });
      const r = run('evaluation', '--year', '2025', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`published as ${published.id}`);
      const json = JSON.parse(readFileSync(path.join(out, 'evaluation-2025.json'), 'utf8')) as { published: { id: string; rows: Row[] }; draft: Row[] };
      expect(json.published.id).toBe(published.id);
      expect(json.published.rows.find((x) => x.agency === 'hrss')).toMatchObject({ score: 75, result: 'FAIR', datasetsOverdue: 1 });
      expect(json.draft.find((x) => x.agency === 'tax')).toMatchObject({ score: 70 });
      const csv = readFileSync(path.join(out, 'evaluation-2025.csv'), 'utf8').split('\n');
      expect(csv[0]).toBe('year,version,agency,requestsReceived,answeredOnTime,answeredLate,missed,refusals,refusalsOverturned,inconsistencyReports,inconsistencyAnswered,complaintsUpheld,violationCases,datasetsOverdue,score,result');
      expect(csv).toContain(`2025,${published.id},tax,12,8,2,2,0,0,0,0,0,0,0,70,FAIR`);
      expect(csv).toContain('2025,draft,hrss,3,3,0,0,1,1,0,0,1,0,1,75,FAIR');
      const bad = run('evaluation', '--year', '25');
      expect(bad.status).toBe(1);
      expect(bad.stderr.trim()).toBe('report: --year must be a year, got "25". usage: npm run report -- evaluation --year YYYY [--out DIR]');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
