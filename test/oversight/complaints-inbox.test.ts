import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { ids } from '../../ledger/events.ts';
import { addWorkingDays, workingDaysLeft } from '../../subgraphs/exchange/workdays.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;
const INBOX = '{ inbox { agency dueSoon items { kind ref from dueBy workingDaysLeft dueSoon overdue summary } } }';

interface Item { kind: string; ref: string; from: string | null; dueBy: string | null; workingDaysLeft: number | null; dueSoon: boolean; overdue: boolean; summary: string }

function code(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.['code'];
}

function ok<T>(res: GraphQLResponse, field: string): T {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data?.[field] as T;
}

/** A receipt time whose 15-working-day deadline is `left` working days from now. */
function receivedWithDaysLeft(left: number): Date {
  const now = new Date();
  for (let back = 1; back < 60; back++) {
    const t = new Date(now.getTime() - back * 86_400_000);
    if (workingDaysLeft(now, addWorkingDays(t, 15).dueBy) === left) return t;
  }
  throw new Error(`no receipt day leaves ${left} working days`);
}

describe('inbox, complaints and the demand register through the gateway', () => {
  let ex: Exchange;
  let ledger: Ledger;
  const inbox = async (agency: string, roles: readonly string[] = []): Promise<Item[]> => ok<{ items: Item[] }>(await ex.query(INBOX, { agency, roles }), 'inbox').items;
  beforeAll(async () => {
    ex = await startExchange();
    ledger = await openLedger({ dataDir: ex.config.dataDir, redisUrl: null });
  });
  afterAll(async () => {
    await ledger.close();
    await ex.close();
  });

  it("puts a new request and a deadline within 3 working days in the provider's inbox", async () => {
    // A request received some days ago (as an agency's own system would have filed it then).
    const received = receivedWithDaysLeft(2);
    const old = await ledger.record(
      { type: 'request.filed', data: { consumer: 'amr', provider: 'hrss', datasets: ['hrss.enterprise-insurance'], purposes: ['statistics'], legalBasis: '统计法第七条', justification: '市场主体统计', validUntil: '2030-12-31', receivedAt: received.toISOString() } },
      { sub: 'amr-clerk', agency: 'amr' },
    );
    const fresh = ok<{ id: string }>(
      await ex.query('mutation { fileSharingRequest(provider: "hrss", datasets: ["hrss.enterprise-insurance"], purposes: ["tax-collection"], legalBasis: "税收征管法第五条", justification: "社保费征收", validUntil: "2030-12-31") { id } }', { agency: 'tax' }),
      'fileSharingRequest',
    );
    const items = await inbox('hrss');
    expect(items.map((i) => [i.kind, i.ref, i.from, i.dueSoon])).toEqual([
      ['REQUEST_TO_ANSWER', ids.request(old), 'amr', true],
      ['REQUEST_TO_ANSWER', fresh.id, 'tax', false],
    ]);
    expect(items[0]).toMatchObject({ workingDaysLeft: 2, overdue: false, dueBy: addWorkingDays(received, 15).dueBy });
    expect(ok<{ dueSoon: number }>(await ex.query(INBOX, { agency: 'hrss' }), 'inbox').dueSoon).toBe(1);
    expect(await inbox('psb')).toEqual([]);
  });

  it('takes a complaint from filing through the answer to the coordinator\'s decision, each step in the ledger', async () => {
    const filed = ok<{ id: string }>(await ex.query('mutation { fileSharingRequest(provider: "tax", datasets: ["tax.credit-rating"], purposes: ["environmental-enforcement"], legalBasis: "环境保护法第五十四条", justification: "环境信用评价", validUntil: "2030-12-31") { id } }', { agency: 'eeb' }), 'fileSharingRequest');
    ok(await ex.query('mutation($id: ID!) { refuseSharingRequest(id: $id, reasons: "暂不具备条件") { status } }', { agency: 'tax', variables: { id: filed.id } }), 'refuseSharingRequest');

    const FILE = 'mutation($r: ID) { fileComplaint(against: "tax", ground: REFUSED, description: "拒绝理由不成立", requestId: $r) { id status answerDueBy decisionDueBy } }';
    const complaint = ok<{ id: string; status: string; answerDueBy: string; decisionDueBy: string }>(await ex.query(FILE, { agency: 'eeb', variables: { r: filed.id } }), 'fileComplaint');
    expect(complaint).toMatchObject({ status: 'FILED', answerDueBy: addWorkingDays(new Date(), 10).dueBy, decisionDueBy: addWorkingDays(new Date(), 20).dueBy });
    expect((await inbox('tax')).find((i) => i.ref === complaint.id)).toMatchObject({ kind: 'COMPLAINT_TO_ANSWER', from: 'eeb', dueBy: complaint.answerDueBy });
    expect((await inbox('itd', ['coordinator'])).find((i) => i.ref === complaint.id)).toMatchObject({ kind: 'COMPLAINT_TO_DECIDE' });

    const DECIDE = 'mutation($id: ID!) { decideComplaint(id: $id, upheld: true, reasons: "拒绝缺乏法定理由，责令限期提供") { status decisionReasons history } }';
    const early = await ex.query(DECIDE, { ...COORDINATOR, variables: { id: complaint.id } });
    expect(early.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining("awaits tax's answer") });

    const ANSWER = 'mutation($id: ID!) { answerComplaint(id: $id, answer: "数据尚在治理，预计下季度提供") { status answer } }';
    expect(code(await ex.query(ANSWER, { agency: 'eeb', variables: { id: complaint.id } }))).toBe('FORBIDDEN');
    expect(code(await ex.query(ANSWER, { agency: 'amr', variables: { id: complaint.id } }))).toBe('BAD_USER_INPUT');
    expect(ok(await ex.query(ANSWER, { agency: 'tax', variables: { id: complaint.id } }), 'answerComplaint')).toEqual({ status: 'ANSWERED', answer: '数据尚在治理，预计下季度提供' });
    expect((await inbox('tax')).find((i) => i.ref === complaint.id)).toBeUndefined();

    expect(code(await ex.query(DECIDE, { agency: 'eeb', variables: { id: complaint.id } }))).toBe('FORBIDDEN');
    expect(code(await ex.query(DECIDE, { agency: 'itd', roles: ['auditor'], variables: { id: complaint.id } }))).toBe('FORBIDDEN');
    const decided = ok<{ status: string; history: number[] }>(await ex.query(DECIDE, { ...COORDINATOR, variables: { id: complaint.id } }), 'decideComplaint');
    expect(decided.status).toBe('UPHELD');
    expect(decided.history).toHaveLength(3);
    expect((await inbox('eeb')).find((i) => i.ref === complaint.id)).toMatchObject({ kind: 'DECISION_RECEIVED', from: 'itd', summary: expect.stringContaining('upheld') });
    expect((await inbox('itd', ['coordinator'])).find((i) => i.ref === complaint.id)).toBeUndefined();

    const LIST = '{ complaints { totalCount items { id complainant against status } } }';
    expect(ok(await ex.query(LIST, { agency: 'psb' }), 'complaints')).toEqual({ totalCount: 0, items: [] });
    expect(ok(await ex.query(LIST, { agency: 'itd', roles: ['auditor'] }), 'complaints')).toEqual({ totalCount: 1, items: [{ id: complaint.id, complainant: 'eeb', against: 'tax', status: 'UPHELD' }] });
    expect(code(await ex.query('{ complaints(filter: { agency: "tax" }) { totalCount } }', { agency: 'psb' }))).toBe('FORBIDDEN');
  });

  it('refuses a complaint that names a request between other agencies', async () => {
    const res = await ex.query('mutation { fileComplaint(against: "tax", ground: LATE, description: "逾期", requestId: "sr-20260101-0001") { id } }', { agency: 'psb' });
    expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'requestId' } });
  });

  it('records a need in the demand register; the authority assigns it to the holder to catalog, or matches it to a catalogued dataset', async () => {
    const RECORD = 'mutation($d: String!) { recordDemand(data: $d, duty: "企业信用监管", purpose: "credit-supervision", legalBasis: "《企业信息公示暂行条例》第六条", frequency: "MONTHLY") { id status agency } }';
    const uncatalogued = ok<{ id: string }>(await ex.query(RECORD, { agency: 'amr', variables: { d: '社会组织登记信息' } }), 'recordDemand');
    const catalogued = ok<{ id: string }>(await ex.query(RECORD, { agency: 'amr', variables: { d: '企业纳税信用等级' } }), 'recordDemand');
    expect((await inbox('itd', ['coordinator'])).filter((i) => i.kind === 'DEMAND_TO_MATCH').map((i) => i.ref)).toEqual([uncatalogued.id, catalogued.id]);

    expect(code(await ex.query('mutation($id: ID!) { assignDemand(id: $id, holder: "civil", note: "请编目") { id } }', { agency: 'amr', variables: { id: uncatalogued.id } }))).toBe('FORBIDDEN');
    const assigned = ok(await ex.query('mutation($id: ID!) { assignDemand(id: $id, holder: "civil", note: "社会组织登记由民政局编目") { status holder } }', { ...COORDINATOR, variables: { id: uncatalogued.id } }), 'assignDemand');
    expect(assigned).toEqual({ status: 'ASSIGNED', holder: 'civil' });
    expect((await inbox('civil')).find((i) => i.ref === uncatalogued.id)).toMatchObject({ kind: 'DATASET_TO_CATALOG', from: 'amr' });

    const notCatalogued = await ex.query('mutation($id: ID!) { matchDemand(id: $id, datasets: ["civil.social-organisations"]) { id } }', { ...COORDINATOR, variables: { id: catalogued.id } });
    expect(notCatalogued.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'datasets' } });
    const matched = ok(await ex.query('mutation($id: ID!) { matchDemand(id: $id, datasets: ["tax.credit-rating"]) { status provider datasets } }', { ...COORDINATOR, variables: { id: catalogued.id } }), 'matchDemand');
    expect(matched).toEqual({ status: 'MATCHED', provider: 'tax', datasets: ['tax.credit-rating'] });
    expect((await inbox('amr')).find((i) => i.ref === catalogued.id)).toMatchObject({ kind: 'DECISION_RECEIVED', summary: expect.stringContaining('file a sharing request to tax') });

    const mine = ok<{ totalCount: number }>(await ex.query('{ demands { totalCount } }', { agency: 'civil' }), 'demands');
    expect(mine.totalCount).toBe(1);
  });
});
