import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';

const ENT = '91445202MA4W3K7PX2';
const FILE = `mutation File($p: String!, $d: [String!]!, $u: [String!]!) {
  fileSharingRequest(provider: $p, datasets: $d, purposes: $u, legalBasis: "《揭阳市企业基础信息共享试点》第三条", justification: "环境信用评价需要纳税信用等级", validUntil: "2027-12-31") {
    id status dueBy dueProvisional workingDaysLeft receivedAt
  }
}`;

function reason(res: GraphQLResponse): string | undefined {
  return (res.body.errors?.[0]?.extensions?.['sharing'] as { reason?: string } | undefined)?.reason;
}

describe('the sharing-request workflow through the gateway', () => {
  let ex: Exchange;
  let dataDir: string;
  // The exchange's clock: real time moved forward by what a test skips, instead of waiting.
  let skipped = 0;
  const clock = (): number => Date.now() + skipped;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-workflow-'));
    ex = await startExchange({ dataDir, clock });
  });
  afterAll(async () => {
    await ex.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const read = () => ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'eeb', purpose: 'environmental-enforcement' });
  const file = async (): Promise<string> => {
    const res = await ex.query(FILE, { agency: 'eeb', variables: { p: 'tax', d: ['tax.credit-rating'], u: ['environmental-enforcement'] } });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data?.['fileSharingRequest'] as { id: string }).id;
  };

  it('takes eeb from GRANT_REQUIRED to reading tax.credit-rating, and back after revocation', async () => {
    expect(reason(await read())).toBe('GRANT_REQUIRED');

    const filed = await ex.query(FILE, { agency: 'eeb', variables: { p: 'tax', d: ['tax.credit-rating'], u: ['environmental-enforcement'] } });
    const request = filed.body.data?.['fileSharingRequest'] as { id: string; status: string; dueBy: string; workingDaysLeft: number };
    expect(request).toMatchObject({ status: 'PENDING', workingDaysLeft: expect.any(Number) });
    expect(request.dueBy).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const seen = await ex.query('{ sharingRequests(role: PROVIDER) { id consumer datasets status } }', { agency: 'tax' });
    expect(seen.body.data?.['sharingRequests']).toEqual([{ id: request.id, consumer: 'eeb', datasets: ['tax.credit-rating'], status: 'PENDING' }]);

    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id, conditions: "仅用于环境信用评价") { status grantIds } }', { agency: 'tax', variables: { id: request.id } });
    expect(approved.body.data?.['approveSharingRequest']).toEqual({ status: 'APPROVED', grantIds: [`g-${request.id}-1`] });

    // Commercial-secret data: the grant alone is not enough.
    let res = await answerWhen(read, (r) => reason(r) !== 'GRANT_REQUIRED');
    expect(reason(res)).toBe('AGREEMENT_REQUIRED');

    const agreed = await ex.query('mutation { proposeConfidentialityAgreement(counterparty: "tax", datasets: ["tax.credit-rating"], validUntil: "2028-01-01", documentRef: "揭环税保密〔2026〕1号") { id } }', { agency: 'eeb' });
    expect(agreed.body.errors).toBeUndefined();
    const agreementId = (agreed.body.data?.['proposeConfidentialityAgreement'] as { id: string }).id;
    const countersigned = await ex.query('mutation($id: ID!) { countersignConfidentialityAgreement(id: $id) { status } }', { agency: 'tax', variables: { id: agreementId } });
    expect(countersigned.body.data).toEqual({ countersignConfidentialityAgreement: { status: 'IN_FORCE' } });
    res = await answerWhen(read, (r) => r.body.errors === undefined);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ enterprise: { taxCreditGrade: expect.any(String) } });

    // Only a party or a coordinator ends the agreement; then the grant alone is not enough again.
    const endAgreement = 'mutation($id: ID!) { revokeConfidentialityAgreement(id: $id, reasons: "协议到期未续签") }';
    const stranger = await ex.query(endAgreement, { agency: 'amr', variables: { id: agreementId } });
    expect(stranger.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await ex.query(endAgreement, { agency: 'tax', variables: { id: agreementId } })).body.data).toEqual({ revokeConfidentialityAgreement: true });
    res = await answerWhen(read, (r) => r.body.errors !== undefined);
    expect(reason(res)).toBe('AGREEMENT_REQUIRED');

    const revoked = await ex.query('mutation($id: ID!) { revokeGrant(id: $id, reasons: "评价工作结束") }', { agency: 'tax', variables: { id: `g-${request.id}-1` } });
    expect(revoked.body.data).toEqual({ revokeGrant: true });
    res = await answerWhen(read, (r) => reason(r) === 'GRANT_REQUIRED');
    expect(reason(res)).toBe('GRANT_REQUIRED');

    const history = await ex.query('query($id: ID!) { sharingRequest(id: $id) { history { type agency } } }', { agency: 'eeb', variables: { id: request.id } });
    expect((history.body.data?.['sharingRequest'] as { history: { type: string; agency: string }[] }).history).toEqual([
      { type: 'request.filed', agency: 'eeb' },
      { type: 'request.approved', agency: 'tax' },
      { type: 'grant.revoked', agency: 'tax' },
    ]);
  });

  it("ends a grant at its validUntil: the gateway denies with GRANT_EXPIRED and the request's history records the expiry", async () => {
    const filed = await ex.query(FILE, { agency: 'tax', variables: { p: 'eeb', d: ['eeb.enterprise-emissions'], u: ['statistics'] } });
    const id = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    // A minute ahead on the exchange's clock: in force for this read whatever the machine's load.
    const until = new Date(clock() + 60_000).toISOString();
    const approved = await ex.query('mutation($id: ID!, $u: String) { approveSharingRequest(id: $id, validUntil: $u) { status } }', { agency: 'eeb', variables: { id, u: until } });
    expect(approved.body.data?.['approveSharingRequest']).toEqual({ status: 'APPROVED' });
    const emissions = () => ex.query(`{ enterprise(uscc: "${ENT}") { emissions(year: 2025) { cod } } }`, { agency: 'tax', purpose: 'statistics' });

    const res = await answerWhen(emissions, (r) => r.body.errors === undefined);
    expect(res.body.errors).toBeUndefined();

    skipped += 61_000; // the minute passes

    // The expiry is an event in the request's history (the exchange's sweep records it once the time has passed).
    const history = async () => (await ex.query('query($id: ID!) { sharingRequest(id: $id) { history { type detail } } }', { agency: 'tax', variables: { id } })).body.data?.['sharingRequest'] as { history: { type: string; detail: string | null }[] };
    const h = await answerWhen(history, (x) => x.history.length >= 3);
    expect(h.history.map((e) => e.type)).toEqual(['request.filed', 'request.approved', 'grant.expired']);
    expect(h.history[2]!.detail).toBe(`grant g-${id}-1 ended at ${until}`);
    expect(reason(await emissions())).toBe('GRANT_EXPIRED');
  });

  it('refuses an approval whose validUntil is already past', async () => {
    const id = await file();
    const res = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id, validUntil: "2026-01-01") { status } }', { agency: 'tax', variables: { id } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'validUntil' });
  });

  it("counts each answer in the provider's deadline record (R-40)", async () => {
    const record = async () =>
      ((await ex.query('{ deadlineRecord(provider: "tax") { provider received answeredOnTime answeredLate missed open } }', { agency: 'civil' })).body.data?.['deadlineRecord'] as Record<string, unknown>[])[0] ?? {
        received: 0,
        answeredOnTime: 0,
        open: 0,
      };
    const before = await record();
    const id = await file();
    const filed = await record();
    expect(filed).toMatchObject({ provider: 'tax', received: Number(before['received']) + 1, open: Number(before['open']) + 1 });
    const answered = await ex.query('mutation($id: ID!) { refuseSharingRequest(id: $id, reasons: "评价标准尚未公布") { status timeliness } }', { agency: 'tax', variables: { id } });
    expect(answered.body.data?.['refuseSharingRequest']).toEqual({ status: 'REFUSED', timeliness: 'ON_TIME' });
    expect(await record()).toMatchObject({ received: filed['received'], answeredOnTime: Number(filed['answeredOnTime']) + 1, open: Number(filed['open']) - 1, missed: 0, answeredLate: 0 });
  });

  it('names an unknown provider in deadlineRecord', async () => {
    const res = await ex.query('{ deadlineRecord(provider: "nope") { provider } }', { agency: 'civil' });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'provider' });
  });

  it('refuses a refusal without written reasons as BAD_USER_INPUT', async () => {
    const id = await file();
    const res = await ex.query('mutation($id: ID!) { refuseSharingRequest(id: $id, reasons: "   ") { status } }', { agency: 'tax', variables: { id } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'reasons' });
  });

  it('lets only the provider answer', async () => {
    const id = await file();
    const res = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: 'eeb', variables: { id } });
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const other = await ex.query('mutation($id: ID!) { refuseSharingRequest(id: $id, reasons: "no") { status } }', { agency: 'amr', variables: { id } });
    expect(other.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('escalates a refusal to the authority, whose coordinator approves with written reasons', async () => {
    const id = await file();
    await ex.query('mutation($id: ID!) { refuseSharingRequest(id: $id, reasons: "数据涉及商业秘密") { status } }', { agency: 'tax', variables: { id } });
    const esc = await ex.query('mutation($id: ID!) { escalateSharingRequest(id: $id, reasons: "履行环境监管职责所需（第十一条）") { status } }', { agency: 'eeb', variables: { id } });
    expect(esc.body.data?.['escalateSharingRequest']).toEqual({ status: 'ESCALATED' });
    const notCoordinator = await ex.query('mutation($id: ID!) { decideEscalation(id: $id, approve: true, reasons: "x") { status } }', { agency: 'itd', variables: { id } });
    expect(notCoordinator.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const decided = await ex.query('mutation($id: ID!) { decideEscalation(id: $id, approve: true, reasons: "经协调，准予共享") { status grantIds answer } }', { agency: 'itd', roles: ['coordinator'], variables: { id } });
    expect(decided.body.data?.['decideEscalation']).toEqual({ status: 'APPROVED_ON_ESCALATION', grantIds: [`g-${id}-1`], answer: '经协调，准予共享' });
  });

  it('refuses to take a request for NOT_SHARED or UNCONDITIONAL data, naming why', async () => {
    const ns = await ex.query(FILE, { agency: 'eeb', variables: { p: 'tax', d: ['tax.tax-payments'], u: ['environmental-enforcement'] } });
    expect(ns.body.errors?.[0]?.message).toContain('NOT_SHARED: it cannot be requested (R-4)');
    const un = await ex.query(FILE, { agency: 'eeb', variables: { p: 'tax', d: ['tax.taxpayer-registration'], u: ['environmental-enforcement'] } });
    expect(un.body.errors?.[0]?.message).toContain('UNCONDITIONAL: read it directly');
  });

  it('keeps requests across a restart', async () => {
    const id = await file();
    await ex.close();
    ex = await startExchange({ dataDir });
    const res = await ex.query('query($id: ID!) { sharingRequest(id: $id) { id status } }', { agency: 'tax', variables: { id } });
    expect(res.body.data?.['sharingRequest']).toEqual({ id, status: 'PENDING' });
  });
});
