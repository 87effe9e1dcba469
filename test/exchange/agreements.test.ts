import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_CHAIN, ledgerReader, parseRecorded } from '../../ledger/ledger.ts';
import type { Recorded } from '../../ledger/events.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';

const ENT = '91445202MA4W3K7PX2';
const PERSON = '445202198503151238';
const AGREEMENT = 'id parties proposedBy countersignedBy datasets signedOn validUntil documentRef filedWithSecrecyBureau status history { type agency detail }';
const PROPOSE = `mutation($c: String!, $d: [String!]!, $u: String!) { proposeConfidentialityAgreement(counterparty: $c, datasets: $d, validUntil: $u, documentRef: "揭阳市信息共享保密协议") { ${AGREEMENT} } }`;
const COUNTERSIGN = `mutation($id: ID!) { countersignConfidentialityAgreement(id: $id) { ${AGREEMENT} } }`;
const FILE = `mutation($id: ID!) { recordSecrecyBureauFiling(id: $id, reference: "揭保备〔2026〕7号") { ${AGREEMENT} } }`;
const REVOKE = 'mutation($id: ID!) { revokeConfidentialityAgreement(id: $id, reasons: "合作事项终止") }';

interface AgreementView {
  id: string;
  parties: string[];
  proposedBy: string | null;
  countersignedBy: string | null;
  signedOn: string | null;
  filedWithSecrecyBureau: boolean;
  status: string;
  history: { type: string; agency: string | null; detail: string | null }[];
}

function reason(res: GraphQLResponse): string | undefined {
  return (res.body.errors?.[0]?.extensions?.['sharing'] as { reason?: string } | undefined)?.reason;
}

function code(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.['code'];
}

/** Asks until `done` holds (the gateway applies ledger changes as it follows the ledger), at most ~5 s. */
describe('confidentiality agreements signed by both parties (R-34), through the gateway', () => {
  let ex: Exchange;
  // The exchange's clock: real time moved forward by what a test skips, instead of waiting.
  let skipped = 0;
  const clock = (): number => Date.now() + skipped;
  beforeAll(async () => {
    ex = await startExchange({ clock });
  });
  afterAll(async () => {
    await ex.close();
  });

  const agreementOf = (res: GraphQLResponse, field: string): AgreementView => {
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.[field] as AgreementView;
  };
  const propose = async (proposer: string, counterparty: string, datasets: string[], validUntil = '2028-01-01'): Promise<AgreementView> =>
    agreementOf(await ex.query(PROPOSE, { agency: proposer, variables: { c: counterparty, d: datasets, u: validUntil } }), 'proposeConfidentialityAgreement');
  /** A grant in force for `consumer`, by the provider approving its sharing request. */
  const grant = async (consumer: string, provider: string, dataset: string, purpose: string): Promise<void> => {
    const filed = await ex.query(
      'mutation($p: String!, $d: [String!]!, $u: [String!]!) { fileSharingRequest(provider: $p, datasets: $d, purposes: $u, legalBasis: "粤府办〔2008〕64号", justification: "协同监管", validUntil: "2027-12-31") { id } }',
      { agency: consumer, variables: { p: provider, d: [dataset], u: [purpose] } },
    );
    expect(filed.body.errors).toBeUndefined();
    const id = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: provider, variables: { id } });
    expect(approved.body.data).toEqual({ approveSharingRequest: { status: 'APPROVED' } });
  };
  const ledgerEventsOf = async (id: string): Promise<Recorded[]> => {
    const reader = ledgerReader({ dataDir: ex.config.dataDir, redisUrl: null });
    try {
      const all = (await reader.read(LEDGER_CHAIN, 0, 100_000)).map((r) => parseRecorded(r.line));
      const proposal = all.find((e) => e.type === 'agreement.proposed' && `ag-${e.seq}` === id);
      return all.filter((e) => e === proposal || ((e.type === 'agreement.countersigned' || e.type === 'agreement.filed' || e.type === 'agreement.revoked') && e.data.id === id));
    } finally {
      await reader.close();
    }
  };

  it('keeps eeb at AGREEMENT_REQUIRED for tax.credit-rating while only eeb has signed, and lets it read once tax countersigns', async () => {
    const rating = () => ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'eeb', purpose: 'environmental-enforcement' });
    await grant('eeb', 'tax', 'tax.credit-rating', 'environmental-enforcement');
    expect(reason(await answerWhen(rating, (r) => reason(r) !== 'GRANT_REQUIRED'))).toBe('AGREEMENT_REQUIRED');

    const proposed = await propose('eeb', 'tax', ['tax.credit-rating']);
    expect(proposed).toMatchObject({ parties: ['eeb', 'tax'], proposedBy: 'eeb', countersignedBy: null, signedOn: null, status: 'PROPOSED' });

    // A grant approved after the proposal is in the ledger after it: once the gateway applies that
    // grant, it has seen the proposal too, and the rating must still be refused.
    await grant('tax', 'eeb', 'eeb.enterprise-emissions', 'statistics');
    const emissions = () => ex.query(`{ enterprise(uscc: "${ENT}") { emissions(year: 2025) { cod } } }`, { agency: 'tax', purpose: 'statistics' });
    expect((await answerWhen(emissions, (r) => r.body.errors === undefined)).body.errors).toBeUndefined();
    expect(reason(await rating())).toBe('AGREEMENT_REQUIRED');

    const countersigned = agreementOf(await ex.query(COUNTERSIGN, { agency: 'tax', variables: { id: proposed.id } }), 'countersignConfidentialityAgreement');
    expect(countersigned).toMatchObject({ status: 'IN_FORCE', countersignedBy: 'tax', signedOn: expect.any(String) });
    const read = await answerWhen(rating, (r) => r.body.errors === undefined);
    expect(read.body).toMatchObject({ data: { enterprise: { taxCreditGrade: expect.any(String) } } });
    expect(read.body.errors).toBeUndefined();

    const events = await ledgerEventsOf(proposed.id);
    expect(events.map((e) => [e.type, e.actor?.agency])).toEqual([
      ['agreement.proposed', 'eeb'],
      ['agreement.countersigned', 'tax'],
    ]);
  });

  it('refuses a countersignature by the proposer or by a third agency, FORBIDDEN, and the agreement stays PROPOSED', async () => {
    const proposed = await propose('amr', 'eeb', ['eeb.enterprise-emissions']);
    const byProposer = await ex.query(COUNTERSIGN, { agency: 'amr', variables: { id: proposed.id } });
    expect(code(byProposer)).toBe('FORBIDDEN');
    expect(byProposer.body.errors?.[0]?.message).toContain('only eeb, the other party, countersigns');
    expect(code(await ex.query(COUNTERSIGN, { agency: 'hrss', variables: { id: proposed.id } }))).toBe('FORBIDDEN');
    expect(code(await ex.query(COUNTERSIGN, { agency: 'itd', roles: ['coordinator'], variables: { id: proposed.id } }))).toBe('FORBIDDEN');

    const seen = await ex.query(`query($id: ID!) { confidentialityAgreement(id: $id) { status countersignedBy } }`, { agency: 'amr', variables: { id: proposed.id } });
    expect(seen.body.data).toEqual({ confidentialityAgreement: { status: 'PROPOSED', countersignedBy: null } });
    expect((await ledgerEventsOf(proposed.id)).map((e) => e.type)).toEqual(['agreement.proposed']);
  });

  it('lets only a coordinator of itd record the secrecy-bureau filing, once', async () => {
    const proposed = await propose('tax', 'amr', ['tax.credit-rating']);
    for (const who of [{ agency: 'tax' }, { agency: 'amr', roles: ['coordinator'] }, { agency: 'itd' }, { agency: 'itd', roles: ['auditor'] }]) {
      const res = await ex.query(FILE, { ...who, variables: { id: proposed.id } });
      expect(code(res), JSON.stringify(who)).toBe('FORBIDDEN');
      // Refused by the gateway's decision (the field is reserved to itd's coordinators), before the subgraph.
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ sharing: { coordinate: 'Mutation.recordSecrecyBureauFiling', reason: 'ROLE_REQUIRED', remedy: expect.stringContaining('coordinator of itd') } });
    }
    const filed = agreementOf(await ex.query(FILE, { agency: 'itd', roles: ['coordinator'], variables: { id: proposed.id } }), 'recordSecrecyBureauFiling');
    expect(filed).toMatchObject({ filedWithSecrecyBureau: true, status: 'PROPOSED' });
    expect(filed.history.at(-1)).toEqual({ type: 'agreement.filed', agency: 'itd', detail: '揭保备〔2026〕7号' });

    const again = await ex.query(FILE, { agency: 'itd', roles: ['coordinator'], variables: { id: proposed.id } });
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
    expect((await ledgerEventsOf(proposed.id)).map((e) => [e.type, e.actor?.agency])).toEqual([
      ['agreement.proposed', 'tax'],
      ['agreement.filed', 'itd'],
    ]);
  });

  // Either party ends it: the proposer in one case, the countersigning party in the other.
  it.each([
    { consumer: 'civil', provider: 'psb', dataset: 'psb.population-basic', field: 'name', proposer: 'psb', revoker: 'psb' },
    { consumer: 'civil', provider: 'hrss', dataset: 'hrss.pension-insurance', field: 'pensionInsurance { status }', proposer: 'civil', revoker: 'hrss' },
  ])('denies $consumer $dataset with AGREEMENT_REQUIRED again once $revoker revokes the agreement', async ({ consumer, provider, dataset, field, proposer, revoker }) => {
    const read = () => ex.query(`{ person(idNumber: "${PERSON}") { ${field} } }`, { agency: consumer, purpose: 'civil-affairs' });
    await grant(consumer, provider, dataset, 'civil-affairs');
    expect(reason(await answerWhen(read, (r) => reason(r) !== 'GRANT_REQUIRED'))).toBe('AGREEMENT_REQUIRED');

    const proposed = await propose(proposer, proposer === consumer ? provider : consumer, [dataset]);
    const other = proposed.parties[1]!;
    agreementOf(await ex.query(COUNTERSIGN, { agency: other, variables: { id: proposed.id } }), 'countersignConfidentialityAgreement');
    expect((await answerWhen(read, (r) => r.body.errors === undefined)).body.errors).toBeUndefined();

    expect(code(await ex.query(REVOKE, { agency: 'amr', variables: { id: proposed.id } }))).toBe('FORBIDDEN');
    expect((await ex.query(REVOKE, { agency: revoker, variables: { id: proposed.id } })).body.data).toEqual({ revokeConfidentialityAgreement: true });
    expect(reason(await answerWhen(read, (r) => r.body.errors !== undefined))).toBe('AGREEMENT_REQUIRED');

    const seen = await ex.query(`query($id: ID!) { confidentialityAgreement(id: $id) { status } }`, { agency: other, variables: { id: proposed.id } });
    expect(seen.body.data).toEqual({ confidentialityAgreement: { status: 'REVOKED' } });
    expect((await ledgerEventsOf(proposed.id)).map((e) => [e.type, e.actor?.agency, e.type === 'agreement.revoked' ? e.data.reasons : null])).toEqual([
      ['agreement.proposed', proposer, null],
      ['agreement.countersigned', other, null],
      ['agreement.revoked', revoker, '合作事项终止'],
    ]);
  });

  it("shows each party its agreements and their state, the counterparty what awaits its countersignature, and no one else's", async () => {
    const open = await propose('drc', 'stats', ['*']);
    const signed = await propose('stats', 'drc', ['*']);
    agreementOf(await ex.query(COUNTERSIGN, { agency: 'drc', variables: { id: signed.id } }), 'countersignConfidentialityAgreement');
    const list = async (agency: string, status?: string, roles: string[] = []): Promise<{ id: string; status: string }[]> => {
      const res = await ex.query('query($s: AgreementStatus) { confidentialityAgreements(status: $s) { id status } }', { agency, roles, variables: { s: status ?? null } });
      expect(res.body.errors).toBeUndefined();
      return res.body.data?.['confidentialityAgreements'] as { id: string; status: string }[];
    };
    for (const party of ['drc', 'stats']) {
      expect(await list(party)).toEqual([
        { id: open.id, status: 'PROPOSED' },
        { id: signed.id, status: 'IN_FORCE' },
      ]);
      expect(await list(party, 'IN_FORCE')).toEqual([{ id: signed.id, status: 'IN_FORCE' }]);
    }
    expect((await list('amr')).map((a) => a.id)).not.toContain(open.id);
    expect((await list('itd', undefined, ['coordinator'])).map((a) => a.id)).toEqual(expect.arrayContaining([open.id, signed.id]));

    const awaiting = async (agency: string) => ((await ex.query('{ agreementsAwaitingCountersignature { id proposedBy } }', { agency })).body.data?.['agreementsAwaitingCountersignature'] as { id: string; proposedBy: string }[]).filter((a) => a.id === open.id || a.id === signed.id);
    expect(await awaiting('stats')).toEqual([{ id: open.id, proposedBy: 'drc' }]);
    expect(await awaiting('drc')).toEqual([]);

    const hidden = await ex.query(`query($id: ID!) { confidentialityAgreement(id: $id) { id } }`, { agency: 'amr', variables: { id: open.id } });
    expect(hidden.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
  });

  it('shows a proposal past its validUntil as EXPIRED and refuses to countersign it', async () => {
    const soon = new Date(clock() + 60_000).toISOString();
    const proposed = await propose('eeb', 'civil', ['*'], soon);
    skipped += 61_000;
    const status = () => ex.query(`query($id: ID!) { confidentialityAgreement(id: $id) { status } }`, { agency: 'civil', variables: { id: proposed.id } });
    const expired = await answerWhen(status, (r) => (r.body.data?.['confidentialityAgreement'] as { status?: string } | undefined)?.status === 'EXPIRED');
    expect(expired.body.data).toEqual({ confidentialityAgreement: { status: 'EXPIRED' } });
    const late = await ex.query(COUNTERSIGN, { agency: 'civil', variables: { id: proposed.id } });
    expect(late.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
    expect(late.body.errors?.[0]?.message).toContain('is EXPIRED');
  });

  it('never records a countersignature after a revocation of the same agreement, however the two race', async () => {
    const proposals = await Promise.all(Array.from({ length: 6 }, () => propose('amr', 'hrss', ['hrss.enterprise-insurance'])));
    const answers = await Promise.all(
      proposals.flatMap((p) => [ex.query(COUNTERSIGN, { agency: 'hrss', variables: { id: p.id } }), ex.query(REVOKE, { agency: 'amr', variables: { id: p.id } })]),
    );
    for (const a of answers) expect([undefined, 'BAD_USER_INPUT']).toContain(code(a));
    for (const p of proposals) {
      const types = (await ledgerEventsOf(p.id)).map((e) => e.type);
      expect(types.at(-1)).toBe('agreement.revoked');
      expect(types.filter((t) => t === 'agreement.revoked')).toHaveLength(1);
      expect(types.indexOf('agreement.countersigned')).toBeLessThan(types.indexOf('agreement.revoked'));
    }
  });

  it('refuses proposals naming a bad counterparty, dataset or date, naming the argument', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ c: 'eeb', d: ['eeb.enterprise-emissions'], u: '2028-01-01' }, 'counterparty'],
      [{ c: 'zzz', d: ['*'], u: '2028-01-01' }, 'counterparty'],
      [{ c: 'tax', d: [], u: '2028-01-01' }, 'datasets'],
      [{ c: 'tax', d: ['psb.population-basic'], u: '2028-01-01' }, 'datasets'],
      [{ c: 'tax', d: ['tax.nope'], u: '2028-01-01' }, 'datasets'],
      [{ c: 'tax', d: ['tax.credit-rating'], u: '2020-01-01' }, 'validUntil'],
      [{ c: 'tax', d: ['tax.credit-rating'], u: 'soon' }, 'validUntil'],
    ];
    for (const [variables, argument] of cases) {
      const res = await ex.query(PROPOSE, { agency: 'eeb', variables });
      expect(res.body.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
  });
});
