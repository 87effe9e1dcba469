import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../ledger/events.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { cstDate } from '../../subgraphs/exchange/workdays.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;
const PERSON = '445202198503151238';
const DAY = 86_400_000;

function code(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.['code'];
}

function ok<T>(res: GraphQLResponse, field: string): T {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data?.[field] as T;
}

function reason(res: GraphQLResponse): unknown {
  return (res.body.errors?.[0]?.extensions?.['sharing'] as { reason?: string } | undefined)?.reason;
}

/** Asks until `done` holds (the gateway follows the ledger), for at most 3 s. */
async function until(ask: () => Promise<GraphQLResponse>, done: (r: GraphQLResponse) => boolean): Promise<GraphQLResponse> {
  const deadline = Date.now() + 3000;
  let res = await ask();
  while (!done(res) && Date.now() < deadline) res = await ask();
  return res;
}

describe('violations: findings from the ledger, cases, orders and suspensions through the gateway', () => {
  let ex: Exchange;
  let ledger: Ledger;
  let late: string;
  let missed: string;
  beforeAll(async () => {
    ex = await startExchange();
    ledger = await openLedger({ dataDir: ex.config.dataDir, redisUrl: null });
    // Two requests to hrss received 40 days ago: their 15-working-day deadlines have passed.
    const receivedAt = new Date(Date.now() - 40 * DAY).toISOString();
    const file = async (consumer: string, dataset: string, purpose: string): Promise<string> =>
      ids.request(await ledger.record({ type: 'request.filed', data: { consumer, provider: 'hrss', datasets: [dataset], purposes: [purpose], legalBasis: '统计法第七条', justification: '履职需要', validUntil: '2030-12-31', receivedAt } }, { sub: `${consumer}-clerk`, agency: consumer }));
    late = await file('amr', 'hrss.enterprise-insurance', 'statistics');
    missed = await file('tax', 'hrss.pension-insurance', 'tax-collection');
  });
  afterAll(async () => {
    await ledger.close();
    await ex.close();
  });

  it('turns a late answer and a missed deadline into findings with their evidence, visible to the authority and the offender only', async () => {
    ok(await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: 'hrss', variables: { id: late } }), 'approveSharingRequest');
    const Q = 'query($a: String) { violationFindings(agency: $a) { id kind agency requestId evidence } }';
    const findings = ok<{ id: string; kind: string; agency: string; requestId: string; evidence: number[] }[]>(await ex.query(Q, COORDINATOR), 'violationFindings');
    expect(findings.map((f) => [f.id, f.kind, f.agency, f.requestId]).sort()).toEqual([
      [`late-${late}`, 'LATE_ANSWER', 'hrss', late],
      [`missed-${missed}`, 'MISSED_DEADLINE', 'hrss', missed],
    ]);
    expect(findings.find((f) => f.kind === 'LATE_ANSWER')!.evidence).toHaveLength(2);
    expect(ok<unknown[]>(await ex.query(Q, { agency: 'hrss' }), 'violationFindings')).toHaveLength(2);
    expect(ok<unknown[]>(await ex.query(Q, { agency: 'psb' }), 'violationFindings')).toEqual([]);
    expect(code(await ex.query(Q, { agency: 'psb', variables: { a: 'hrss' } }))).toBe('FORBIDDEN');
  });

  it("opens a case on a finding; the order appears in the offender's inbox; a suspension denies the next read with SUSPENDED until lifted", async () => {
    const OPEN = 'mutation($a: String!, $f: [ID!]!) { openCase(agency: $a, findings: $f, summary: "无正当理由拖延答复共享申请") { id agency findings evidence status } }';
    expect(code(await ex.query(OPEN, { agency: 'amr', variables: { a: 'hrss', f: [`late-${late}`] } }))).toBe('FORBIDDEN');
    const wrong = await ex.query(OPEN, { ...COORDINATOR, variables: { a: 'psb', f: [`late-${late}`] } });
    expect(wrong.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'findings' }, message: expect.stringContaining('concerns hrss') });
    const opened = ok<{ id: string; evidence: number[] }>(await ex.query(OPEN, { ...COORDINATOR, variables: { a: 'hrss', f: [`late-${late}`, `missed-${missed}`] } }), 'openCase');
    expect(opened).toMatchObject({ agency: 'hrss', status: 'OPEN', findings: [`late-${late}`, `missed-${missed}`] });
    expect(opened.evidence.length).toBeGreaterThanOrEqual(3);

    const ordered = ok(await ex.query('mutation($c: ID!) { orderCorrection(caseId: $c, correction: "建立答复时限提醒，十五个工作日内答复 tax 的申请", dueBy: "2099-06-30") { orders { correction dueBy } } }', { ...COORDINATOR, variables: { c: opened.id } }), 'orderCorrection');
    expect(ordered).toEqual({ orders: [{ correction: expect.stringContaining('十五个工作日'), dueBy: '2099-06-30' }] });
    const inbox = ok<{ items: { kind: string; ref: string; dueBy: string }[] }>(await ex.query('{ inbox { items { kind ref dueBy } } }', { agency: 'hrss' }), 'inbox');
    expect(inbox.items).toContainEqual({ kind: 'ORDER_TO_CORRECT', ref: opened.id, dueBy: '2099-06-30' });

    const read = () => ex.query(`{ person(idNumber: "${PERSON}") { name } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    expect((await read()).body.errors).toBeUndefined();
    const SUSPEND = 'mutation($c: ID!) { suspendAccess(caseId: $c, dataset: "psb.population-basic", until: "2099-01-01T00:00:00Z", reason: "逾期未整改") { suspensions { id agency dataset liftedAt } } }';
    expect(code(await ex.query(SUSPEND, { agency: 'itd', roles: ['auditor'], variables: { c: opened.id } }))).toBe('FORBIDDEN');
    const suspended = ok<{ suspensions: { id: string }[] }>(await ex.query(SUSPEND, { ...COORDINATOR, variables: { c: opened.id } }), 'suspendAccess');
    expect(suspended.suspensions).toEqual([{ id: expect.stringMatching(/^su-\d+$/), agency: 'hrss', dataset: 'psb.population-basic', liftedAt: null }]);
    const denied = await until(read, (r) => r.body.errors !== undefined);
    expect(reason(denied)).toBe('SUSPENDED');
    expect(denied.body.data).toEqual({ person: { name: null } });

    const LIFT = 'mutation($id: ID!) { liftSuspension(id: $id, reasons: "已按期整改") }';
    expect(ok(await ex.query(LIFT, { ...COORDINATOR, variables: { id: suspended.suspensions[0]!.id } }), 'liftSuspension')).toBe(true);
    const restored = await until(read, (r) => r.body.errors === undefined);
    expect(restored.body.errors).toBeUndefined();
    expect(restored.body.data).toEqual({ person: { name: expect.any(String) } });
    expect(code(await ex.query(LIFT, { ...COORDINATOR, variables: { id: suspended.suspensions[0]!.id } }))).toBe('BAD_USER_INPUT');

    const noticed = ok(await ex.query('mutation($c: ID!) { issueCriticism(caseId: $c, notice: "通报批评：拖延答复共享申请") { notices { notice } } }', { ...COORDINATOR, variables: { c: opened.id } }), 'issueCriticism');
    expect(noticed).toEqual({ notices: [{ notice: '通报批评：拖延答复共享申请' }] });
    const after = ok<{ items: { kind: string; summary: string }[] }>(await ex.query('{ inbox { items { kind summary } } }', { agency: 'hrss' }), 'inbox');
    expect(after.items).toContainEqual({ kind: 'DECISION_RECEIVED', summary: expect.stringContaining('notice of criticism') });

    const CASES = '{ violationCases { totalCount items { id suspensions { liftedAt } } } }';
    expect(ok(await ex.query(CASES, { agency: 'hrss' }), 'violationCases')).toMatchObject({ totalCount: 1, items: [{ id: opened.id, suspensions: [{ liftedAt: expect.any(String) }] }] });
    expect(ok(await ex.query(CASES, { agency: 'psb' }), 'violationCases')).toEqual({ totalCount: 0, items: [] });

    const closed = ok(await ex.query('mutation($c: ID!) { closeCase(caseId: $c, reasons: "已整改") { status } }', { ...COORDINATOR, variables: { c: opened.id } }), 'closeCase');
    expect(closed).toEqual({ status: 'CLOSED' });
    const cleared = ok<{ items: { kind: string }[] }>(await ex.query('{ inbox { items { kind } } }', { agency: 'hrss' }), 'inbox');
    expect(cleared.items.map((i) => i.kind)).not.toContain('ORDER_TO_CORRECT');
  });

  it('evaluates each agency from the same ledger; a published evaluation never changes, a correction is a new linked version', async () => {
    const year = Number(cstDate(new Date(Date.now() - 40 * DAY)).slice(0, 4));
    const Q = 'query($y: Int!) { annualEvaluation(year: $y) { draft { agency requestsReceived answeredLate missed result } published { id corrects } versions { id correctedBy rows { agency } } } }';
    const draft = ok<{ draft: { agency: string }[] }>(await ex.query(Q, { ...COORDINATOR, variables: { y: year } }), 'annualEvaluation').draft;
    expect(draft.find((r) => r.agency === 'hrss')).toMatchObject({ requestsReceived: 2, answeredLate: 1, missed: 1, result: expect.stringMatching(/^(FAIR|POOR)$/) });
    expect(draft.find((r) => r.agency === 'psb')).toMatchObject({ requestsReceived: 0, result: 'GOOD' });

    const PUBLISH = 'mutation($y: Int!, $c: ID, $n: String) { publishEvaluation(year: $y, corrects: $c, note: $n) { id corrects } }';
    expect(code(await ex.query(PUBLISH, { agency: 'hrss', variables: { y: year } }))).toBe('FORBIDDEN');
    const first = ok<{ id: string }>(await ex.query(PUBLISH, { ...COORDINATOR, variables: { y: year } }), 'publishEvaluation');
    const again = await ex.query(PUBLISH, { ...COORDINATOR, variables: { y: year } });
    expect(again.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'corrects' }, message: expect.stringContaining(first.id) });
    expect(code(await ex.query(PUBLISH, { ...COORDINATOR, variables: { y: year, c: first.id } }))).toBe('BAD_USER_INPUT'); // a correction says why
    const second = ok<{ id: string; corrects: string }>(await ex.query(PUBLISH, { ...COORDINATOR, variables: { y: year, c: first.id, n: '补记一项投诉处理结果' } }), 'publishEvaluation');
    expect(second.corrects).toBe(first.id);

    const seen = ok<{ published: { id: string }; versions: { id: string; correctedBy: string | null; rows: { agency: string }[] }[] }>(await ex.query(Q, { agency: 'hrss', variables: { y: year } }), 'annualEvaluation');
    expect(seen.published.id).toBe(second.id);
    expect(seen.versions.map((v) => [v.id, v.correctedBy])).toEqual([[first.id, second.id], [second.id, null]]);
    expect(seen.versions[0]!.rows).toEqual([{ agency: 'hrss' }]);
  });
});
