import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../gateway/audit/record.ts';
import { AccessWatch, PROBE_THRESHOLD, PROBE_WINDOW_MS, type WatchedFacts } from '../../subgraphs/exchange/oversight/access-watch.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;
const ENT = '91445202MA4W3K7PX2';
const FINDINGS = 'query($a: String) { violationFindings(agency: $a) { id kind agency dataset requestId evidence records { chain seq } recordCount description } }';

interface Finding {
  id: string;
  kind: string;
  agency: string;
  dataset: string | null;
  requestId: string | null;
  evidence: number[];
  records: { chain: string; seq: number }[];
  recordCount: number;
  description: string;
}

function ok<T>(res: GraphQLResponse, field: string): T {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data?.[field] as T;
}

function code(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.['code'];
}

const hourOf = (r: AuditRecord): number => Math.floor(Date.parse(r.ts) / PROBE_WINDOW_MS);

describe('violation findings drawn from the access log, through the gateway', () => {
  let ex: Exchange;
  const probes = (records: AuditRecord[]) => records.filter((r) => r.agency === 'eeb' && r.dataset === 'tax.credit-rating' && r.decision === 'DENY');
  beforeAll(async () => {
    ex = await startExchange();
    // tax's grant for hrss.enterprise-insurance names tax-collection only: asking under another purpose is outside it.
    const outside = await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'market-supervision' });
    expect((outside.body.errors?.[0]?.extensions?.['sharing'] as { reason?: string }).reason).toBe('PURPOSE_MISMATCH');
    expect((await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' })).body.errors).toBeUndefined();
    // eeb, without a grant, asks for tax's credit rating again and again: ten denied requests within one clock hour.
    const probe = () => ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'eeb', purpose: 'environmental-enforcement' });
    for (;;) {
      await Promise.all(Array.from({ length: PROBE_THRESHOLD }, probe));
      const denied = probes(await fileAuditRecords(ex.config.dataDir));
      // Ten in the hour the last one fell in, or another ten (the batch straddled the turn of an hour).
      if (denied.filter((r) => hourOf(r) === hourOf(denied[denied.length - 1]!)).length >= PROBE_THRESHOLD) break;
    }
    // Nine of amr's denials of eeb's data stay under the threshold.
    for (let i = 0; i < PROBE_THRESHOLD - 1; i++) await ex.query(`{ enterprise(uscc: "${ENT}") { emissions(year: 2024) { cod } } }`, { agency: 'amr', purpose: 'market-supervision' });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('finds a read under a purpose outside the grant and repeated probing, each naming the access records that show it', async () => {
    const all = ok<Finding[]>(await ex.query(FINDINGS, COORDINATOR), 'violationFindings');
    const records = await fileAuditRecords(ex.config.dataDir);
    const byRef = new Map(records.map((r) => [`${r.instance}/${r.seq}`, r]));
    const shown = (f: Finding) => f.records.map((x) => byRef.get(`${x.chain}/${x.seq}`));

    const purpose = all.filter((f) => f.kind === 'PURPOSE_OUTSIDE_GRANT');
    expect(purpose).toEqual([expect.objectContaining({ agency: 'tax', dataset: 'hrss.enterprise-insurance', requestId: null, recordCount: 1, description: expect.stringContaining('"market-supervision"') })]);
    expect(shown(purpose[0]!)).toEqual([expect.objectContaining({ agency: 'tax', purpose: 'market-supervision', decision: 'DENY', reason: 'PURPOSE_MISMATCH' })]);

    const probing = all.filter((f) => f.kind === 'REPEATED_PROBING');
    expect(probing.map((f) => [f.agency, f.dataset])).toEqual([['eeb', 'tax.credit-rating']]);
    expect(probing[0]!.recordCount).toBeGreaterThanOrEqual(PROBE_THRESHOLD);
    expect(probing[0]!.records.length).toBeGreaterThanOrEqual(PROBE_THRESHOLD);
    for (const r of shown(probing[0]!)) expect(r).toMatchObject({ agency: 'eeb', dataset: 'tax.credit-rating', decision: 'DENY', reason: 'GRANT_REQUIRED' });
    expect(all.some((f) => f.agency === 'amr')).toBe(false);
  });

  it('shows an agency only its own findings and refuses another agency’s', async () => {
    expect(ok<Finding[]>(await ex.query(FINDINGS, { agency: 'eeb' }), 'violationFindings').map((f) => f.kind)).toEqual(['REPEATED_PROBING']);
    expect(ok<Finding[]>(await ex.query(FINDINGS, { agency: 'psb' }), 'violationFindings')).toEqual([]);
    expect(code(await ex.query(FINDINGS, { agency: 'psb', variables: { a: 'eeb' } }))).toBe('FORBIDDEN');
  });

  it('opens a case on a probing finding carrying its access records as evidence', async () => {
    const id = ok<Finding[]>(await ex.query(FINDINGS, COORDINATOR), 'violationFindings').find((f) => f.kind === 'REPEATED_PROBING')!;
    const opened = ok<{ findings: string[]; records: { chain: string; seq: number }[] }>(
      await ex.query('mutation($f: [ID!]!) { openCase(agency: "eeb", findings: $f, summary: "反复试探未获授权的纳税信用数据") { findings records { chain seq } } }', { ...COORDINATOR, variables: { f: [id.id] } }),
      'openCase',
    );
    expect(opened).toEqual({ findings: [id.id], records: id.records });
  });

  it('finds data passed on without the provider’s consent where it is recorded, with the consumer’s reads as evidence; consent clears a later one', async () => {
    const RECORD = 'mutation($d: String!, $r: String!, $on: String!, $c: String) { recordDisclosure(dataset: $d, recipient: $r, description: "向媒体提供参保人数", disclosedOn: $on, consumer: $c) { id consumer recordedBy } }';
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const first = ok<{ id: string; consumer: string; recordedBy: string }>(await ex.query(RECORD, { agency: 'tax', variables: { d: 'hrss.enterprise-insurance', r: '揭阳日报', on: today } }), 'recordDisclosure');
    expect(first).toMatchObject({ consumer: 'tax', recordedBy: 'tax' });
    // Only the consumer itself, the provider or the authority records one.
    expect(code(await ex.query(RECORD, { agency: 'amr', variables: { d: 'hrss.enterprise-insurance', r: '揭阳日报', on: today, c: 'tax' } }))).toBe('FORBIDDEN');
    const future = await ex.query(RECORD, { agency: 'tax', variables: { d: 'hrss.enterprise-insurance', r: '揭阳日报', on: '2999-01-01' } });
    expect(future.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'disclosedOn' } });

    const disclosed = ok<Finding[]>(await ex.query(FINDINGS, COORDINATOR), 'violationFindings').filter((f) => f.kind === 'PASSED_ON_WITHOUT_CONSENT');
    expect(disclosed).toEqual([expect.objectContaining({ id: `disclosed-${first.id}`, agency: 'tax', dataset: 'hrss.enterprise-insurance', recordCount: 1 })]);
    expect(disclosed[0]!.evidence).toHaveLength(1);
    const reads = await fileAuditRecords(ex.config.dataDir);
    const read = reads.find((r) => r.instance === disclosed[0]!.records[0]!.chain && r.seq === disclosed[0]!.records[0]!.seq);
    expect(read).toMatchObject({ agency: 'tax', dataset: 'hrss.enterprise-insurance', decision: 'ALLOW' });

    const CONSENT = 'mutation($c: String!) { giveConsent(consumer: $c, dataset: "hrss.enterprise-insurance", recipient: "*", note: "同意用于征管通报") { id provider } }';
    expect(code(await ex.query(CONSENT, { agency: 'psb', variables: { c: 'tax' } }))).toBe('FORBIDDEN');
    expect(ok(await ex.query(CONSENT, { agency: 'hrss', variables: { c: 'tax' } }), 'giveConsent')).toMatchObject({ provider: 'hrss' });
    ok(await ex.query(RECORD, { agency: 'tax', variables: { d: 'hrss.enterprise-insurance', r: '揭阳市统计局', on: today } }), 'recordDisclosure');
    // The provider reports one it found.
    expect(ok(await ex.query(RECORD, { agency: 'hrss', variables: { d: 'hrss.enterprise-insurance', r: '揭阳市财政局', on: today, c: 'tax' } }), 'recordDisclosure')).toMatchObject({ consumer: 'tax', recordedBy: 'hrss' });
    const after = ok<Finding[]>(await ex.query(FINDINGS, COORDINATOR), 'violationFindings').filter((f) => f.kind === 'PASSED_ON_WITHOUT_CONSENT');
    expect(after.map((f) => f.id)).toEqual([`disclosed-${first.id}`]);
  });
});

describe('the access watch', () => {
  const facts = (over: Partial<WatchedFacts>): WatchedFacts => ({
    ts: '2026-05-04T02:10:00.000Z', requestId: 'r', agency: 'amr', provider: 'tax', dataset: 'tax.credit-rating', purpose: 'market-supervision', decision: 'ALLOW', reason: 'GRANT', grantId: 'g-1', ...over,
  });
  const grant = { id: 'g-1', consumer: 'amr', dataset: 'tax.credit-rating', purposes: ['market-supervision'], validFrom: '2026-01-01', validUntil: '2028-01-01' };

  it('finds a read released under a grant that does not name its purpose (widened use), and none within it', () => {
    const w = new AccessWatch();
    w.add('gw-1', 1, facts({}));
    w.add('gw-1', 2, facts({ requestId: 's', purpose: 'statistics' }));
    w.add('gw-1', 3, facts({ requestId: 's', purpose: 'statistics' }));
    const found = w.findings((id) => (id === 'g-1' ? grant : undefined));
    expect(found).toEqual([expect.objectContaining({ id: 'widened-g-1-statistics', kind: 'PURPOSE_OUTSIDE_GRANT', agency: 'amr', recordCount: 2, records: [{ chain: 'gw-1', seq: 2 }, { chain: 'gw-1', seq: 3 }] })]);
    expect(found[0]!.description).toContain('1 request(s)');
    expect(w.findings(() => undefined)).toEqual([]); // a grant the ledger does not hold (a policy file's) is not judged
  });

  it('counts probing per clock hour whatever order the gateways’ chains arrive in, one request once however many fields it denied', () => {
    const w = new AccessWatch();
    const deny = (chain: string, seq: number, minute: number, requestId: string) =>
      w.add(chain, seq, facts({ ts: new Date(Date.parse('2026-05-04T02:00:00.000Z') + minute * 60_000).toISOString(), requestId, decision: 'DENY', reason: 'GRANT_REQUIRED', grantId: null }));
    for (let i = 0; i < 5; i++) deny('gw-2', i + 1, 30 + i, `b${i}`);
    for (let i = 0; i < 4; i++) deny('gw-1', i + 1, i, `a${i}`);
    deny('gw-1', 5, 4, 'a3'); // a second field of the same request
    expect(w.findings(() => undefined)).toEqual([]);
    deny('gw-1', 6, 59, 'a9');
    deny('gw-1', 7, 61, 'next-hour'); // 10:01 in China: the next hour
    const found = w.findings(() => undefined);
    expect(found).toEqual([expect.objectContaining({ id: 'probing-amr-tax.credit-rating-2026050410', kind: 'REPEATED_PROBING', recordCount: 11 })]);
    expect(found[0]!.records).toHaveLength(11);
    const silent = new AccessWatch();
    for (let i = 0; i < 20; i++) silent.add('gw', i + 1, facts({ requestId: `x${i}`, decision: 'DENY', reason: i % 2 === 0 ? 'RATE_LIMITED' : 'UNPUBLISHED', grantId: null }));
    expect(silent.findings(() => undefined)).toEqual([]);
  });
});
