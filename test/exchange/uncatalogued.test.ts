import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../ledger/events.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { quarterlyReport } from '../../subgraphs/exchange/oversight/quarterly.ts';
import { addWorkingDays, cstDate, endOfDay } from '../../subgraphs/exchange/workdays.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const DEMAND = 'id agency provider data purpose status dueBy workingDaysLeft answer willCatalog answeredAt proposal proposalStatus';
const REQUEST = `mutation Ask($provider: String!, $data: String!) {
  requestUncatalogued(provider: $provider, data: $data, purpose: "environmental-enforcement", legalBasis: "《揭阳市企业基础信息共享试点》第三条", justification: "核查企业投资项目的环评手续") { ${DEMAND} }
}`;
const ANSWER = `mutation Answer($id: ID!, $willCatalog: Boolean!, $answer: String!, $proposal: String) {
  answerDemand(id: $id, willCatalog: $willCatalog, answer: $answer, proposal: $proposal) { ${DEMAND} }
}`;
const INBOX = '{ inbox { items { kind ref from dueBy workingDaysLeft overdue summary } } }';
const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;

interface Demand { id: string; agency: string; provider: string | null; status: string; dueBy: string | null; workingDaysLeft: number | null; answer: string | null; willCatalog: boolean | null; proposal: string | null; proposalStatus: string | null }
interface Item { kind: string; ref: string; from: string | null; dueBy: string | null; overdue: boolean; summary: string }

function ok<T>(res: GraphQLResponse, field: string): T {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data?.[field] as T;
}

function refusal(res: GraphQLResponse): { code: unknown; argument: unknown; message: string | undefined } {
  const e = res.body.errors?.[0];
  return { code: e?.extensions?.['code'], argument: e?.extensions?.['argument'], message: e?.message };
}

describe('a request for data no catalogued dataset holds (R-21), through the gateway', () => {
  let ex: Exchange;
  let ledger: Ledger;
  // The exchange's clock: real time moved forward by what a test skips, instead of waiting weeks.
  let skipped = 0;
  const clock = (): number => Date.now() + skipped;
  const inbox = async (agency: string): Promise<Item[]> => ok<{ items: Item[] }>(await ex.query(INBOX, { agency }), 'inbox').items;
  const ask = async (provider: string, data: string): Promise<Demand> => ok<Demand>(await ex.query(REQUEST, { agency: 'eeb', variables: { provider, data } }), 'requestUncatalogued');
  const answer = (agency: string, variables: Record<string, unknown>) => ex.query(ANSWER, { agency, variables });
  const demandsOf = async (agency: string): Promise<Demand[]> => ok<{ items: Demand[] }>(await ex.query(`{ demands { items { ${DEMAND} } } }`, { agency }), 'demands').items;

  beforeAll(async () => {
    ex = await startExchange({ clock });
    ledger = await openLedger({ dataDir: ex.config.dataDir, redisUrl: null });
  });
  afterAll(async () => {
    await ledger.close();
    await ex.close();
  });

  it('points a sharing request for an unknown dataset to requestUncatalogued', async () => {
    const res = await ex.query('mutation { fileSharingRequest(provider: "drc", datasets: ["drc.investment-projects"], purposes: ["environmental-enforcement"], legalBasis: "R-11", justification: "环评核查", validUntil: "2030-12-31") { id } }', { agency: 'eeb' });
    expect(refusal(res)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'datasets' });
    expect(refusal(res).message).toContain('requestUncatalogued(provider, data, purpose, legalBasis, justification)');
  });

  it("puts the request in the provider's inbox with the 15-working-day deadline, overdue and a finding once it passes unanswered", async () => {
    const asked = await ask('drc', '企业投资项目备案信息（项目名称、总投资、备案机关、备案日期）');
    const dueBy = addWorkingDays(new Date(clock()), 15).dueBy;
    expect(asked).toMatchObject({ agency: 'eeb', provider: 'drc', status: 'AWAITING_ANSWER', dueBy, answer: null });
    expect(asked.workingDaysLeft).toBeGreaterThan(0);

    const mine = (await inbox('drc')).filter((i) => i.ref === asked.id);
    expect(mine).toEqual([expect.objectContaining({ kind: 'DEMAND_TO_ANSWER', from: 'eeb', dueBy, overdue: false })]);
    // Addressed to drc, it is not the authority's to match.
    expect((await inbox('itd')).filter((i) => i.ref === asked.id)).toEqual([]);
    const assign = await ex.query(`mutation { assignDemand(id: "${asked.id}", holder: "amr", note: "x") { id } }`, COORDINATOR);
    expect(refusal(assign)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });

    skipped = endOfDay(dueBy).getTime() + 3_600_000 - Date.now();
    expect((await inbox('drc')).find((i) => i.ref === asked.id)).toMatchObject({ kind: 'DEMAND_TO_ANSWER', overdue: true });
    expect((await demandsOf('eeb')).find((d) => d.id === asked.id)).toMatchObject({ status: 'OVERDUE', workingDaysLeft: 0 });
    const findings = ok<{ id: string; kind: string; agency: string; requestId: string }[]>(await ex.query('{ violationFindings(agency: "drc") { id kind agency requestId } }', COORDINATOR), 'violationFindings');
    expect(findings).toContainEqual({ id: `missed-${asked.id}`, kind: 'MISSED_DEADLINE', agency: 'drc', requestId: asked.id });

    // An answer past the deadline still stands.
    const answered = ok<Demand>(await answer('drc', { id: asked.id, willCatalog: true, answer: '将于下季度编目并以子图发布' }), 'answerDemand');
    expect(answered).toMatchObject({ status: 'WILL_CATALOG', willCatalog: true, answer: '将于下季度编目并以子图发布', proposal: null });
    skipped = 0;
  });

  it('finds an answer recorded after the deadline late', async () => {
    // A request received weeks ago (as the consumer's system recorded it then); the answer's time is the ledger's.
    const recordedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const old = await ledger.record({ type: 'demand.recorded', data: { demand: { agency: 'amr', provider: 'drc', data: '项目核准文件', duty: '市场监管', purpose: 'market-supervision', legalBasis: 'R-11', frequency: 'as needed', recordedAt } } }, { sub: 'amr-clerk', agency: 'amr' });
    const id = ids.demand(old.seq);
    ok<Demand>(await answer('drc', { id, willCatalog: false, answer: '该数据由省发展改革委统一管理，本局不持有' }), 'answerDemand');
    const found = ok<{ id: string; kind: string }[]>(await ex.query('{ violationFindings(agency: "drc") { id kind } }', COORDINATOR), 'violationFindings');
    expect(found.filter((f) => f.id.endsWith(`-${id}`))).toEqual([{ id: `late-${id}`, kind: 'LATE_ANSWER' }]);
  });

  it('lets the provider name the subgraph proposal that catalogs the data, and the consumer see it', async () => {
    const asked = await ask('drc', '企业投资项目审批信息');
    const ours = ok<Demand>(await answer('drc', { id: asked.id, willCatalog: true, answer: '纳入投资项目子图' }), 'answerDemand');
    expect(ours.status).toBe('WILL_CATALOG');
    expect((await inbox('drc')).filter((i) => i.ref === asked.id).map((i) => i.kind)).toEqual(['DATASET_TO_CATALOG']);

    const unknown = await answer('drc', { id: asked.id, willCatalog: true, answer: '见提案', proposal: 'pr-999999' });
    expect(refusal(unknown)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'proposal' });
    // A proposal of another member does not catalog drc's data.
    const other = await ledger.record({ type: 'subgraph.proposed', data: { proposal: { subgraph: { name: 'amr', member: 'amr', url: 'http://127.0.0.1:1/graphql', sdl: 'type Query { a: Int }' }, catalog: {}, note: '' }, report: {} } }, { sub: 'amr-dev', agency: 'amr' });
    expect(refusal(await answer('drc', { id: asked.id, willCatalog: true, answer: '见提案', proposal: ids.proposal(other.seq) }))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'proposal' });

    const proposed = await ledger.record({ type: 'subgraph.proposed', data: { proposal: { subgraph: { name: 'drc', member: 'drc', url: 'http://127.0.0.1:1/graphql', sdl: 'type Query { a: Int }' }, catalog: {}, note: `catalogs ${asked.id}` }, report: {} } }, { sub: 'drc-dev', agency: 'drc' });
    const pr = ids.proposal(proposed.seq);
    const linked = ok<Demand>(await answer('drc', { id: asked.id, willCatalog: true, answer: '见提案', proposal: pr }), 'answerDemand');
    expect(linked).toMatchObject({ status: 'WILL_CATALOG', answer: '纳入投资项目子图', proposal: pr, proposalStatus: 'PENDING' });
    expect((await inbox('drc')).filter((i) => i.ref === asked.id)).toEqual([]);

    expect((await demandsOf('eeb')).find((d) => d.id === asked.id)).toMatchObject({ provider: 'drc', status: 'WILL_CATALOG', proposal: pr });
    const told = (await inbox('eeb')).find((i) => i.ref === asked.id);
    expect(told).toMatchObject({ kind: 'DECISION_RECEIVED', from: 'drc' });
    expect(told?.summary).toContain('will catalog');

    const again = await answer('drc', { id: asked.id, willCatalog: false, answer: '改变主意' });
    expect(refusal(again)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
  });

  it('takes a refusal only from the provider and only with written reasons, and shows them to the consumer', async () => {
    const asked = await ask('tax', '企业发票开具明细');
    expect(refusal(await answer('amr', { id: asked.id, willCatalog: false, answer: '无' }))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
    expect(refusal(await answer('eeb', { id: asked.id, willCatalog: false, answer: '无' })).code).toBe('FORBIDDEN');
    expect(refusal(await answer('tax', { id: asked.id, willCatalog: false, answer: '  ' }))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'answer' });

    const refused = ok<Demand>(await answer('tax', { id: asked.id, willCatalog: false, answer: '发票明细属税收征管法第八条保密信息，不予共享' }), 'answerDemand');
    expect(refused).toMatchObject({ status: 'REFUSED', willCatalog: false });
    expect((await demandsOf('eeb')).find((d) => d.id === asked.id)).toMatchObject({ status: 'REFUSED', answer: '发票明细属税收征管法第八条保密信息，不予共享' });
    expect((await inbox('eeb')).find((i) => i.ref === asked.id)?.summary).toContain('refused');
    // A third agency neither sees it nor learns it exists.
    expect((await demandsOf('amr')).some((d) => d.id === asked.id)).toBe(false);
  });

  it('counts requests for uncatalogued data in the quarterly report: open until answered, then refused or to be catalogued', async () => {
    const today = cstDate(new Date());
    const year = Number(today.slice(0, 4));
    const quarter = Math.floor((Number(today.slice(5, 7)) - 1) / 3) + 1;
    const report = async () => (await quarterlyReport({ dataDir: ex.config.dataDir, redisUrl: null, redisPrefix: '' }, year, quarter)).demands;
    const before = await report();
    const asked = await ask('hrss', '灵活就业人员参保缴费明细');
    expect(await report()).toEqual({ ...before, recorded: before.recorded + 1, open: before.open + 1 });
    ok(await answer('hrss', { id: asked.id, willCatalog: false, answer: '涉及个人隐私，须经本人授权' }), 'answerDemand');
    expect(await report()).toEqual({ ...before, recorded: before.recorded + 1, refused: before.refused + 1 });
  });

  it('refuses a request to an unknown agency, to oneself, or for an unknown purpose, naming the argument', async () => {
    const q = (v: Record<string, string>) => ex.query('mutation($p: String!, $u: String!) { requestUncatalogued(provider: $p, data: "d", purpose: $u, legalBasis: "l", justification: "j") { id } }', { agency: 'eeb', variables: v });
    expect(refusal(await q({ p: 'nobody', u: 'environmental-enforcement' }))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'provider' });
    expect(refusal(await q({ p: 'eeb', u: 'environmental-enforcement' }))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'provider' });
    expect(refusal(await q({ p: 'drc', u: 'gossip' }))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'purpose' });
  });

  it('refuses a request to a suspended member, which could not answer it', async () => {
    ok(await ex.query('mutation { suspendMember(code: "stats", reasons: "机构调整") { status } }', COORDINATOR), 'suspendMember');
    try {
      const res = await ex.query(REQUEST, { agency: 'eeb', variables: { provider: 'stats', data: '规模以上工业企业产值' } });
      expect(refusal(res)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'provider' });
      expect(refusal(res).message).toContain('recordDemand');
    } finally {
      ok(await ex.query('mutation { reinstateMember(code: "stats", reasons: "调整完成") { status } }', COORDINATOR), 'reinstateMember');
    }
  });
});
