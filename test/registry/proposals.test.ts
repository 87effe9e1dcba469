import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../ledger/ledger.ts';
import { openRegistry, type PublishedVersion } from '../../ledger/registry.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { catalogEntry, entitySdl, INVOICES } from './proposal.ts';

const COORDINATOR = { agency: 'itd', roles: ['coordinator'] };
const REPORT = 'approvable compositionErrors undeclaredFields guardrails readsFrom';
const PROPOSAL = `id subgraph member url note status proposedBy decidedBy reasons version report { ${REPORT} }`;
const VERSION = 'version hash proposal rollbackOf publishedBy reasons current subgraphs { name member url } changes { coordinate change before after }';

type Input = Record<string, unknown>;

function data<T>(r: GraphQLResponse, field: string): T {
  if (r.body.errors !== undefined) throw new Error(`${field}: ${JSON.stringify(r.body.errors)}`);
  return r.body.data![field] as T;
}

function errorOf(r: GraphQLResponse): { message: string; code: unknown; argument: unknown } {
  const e = r.body.errors?.[0];
  if (e === undefined) throw new Error(`expected an error, got ${JSON.stringify(r.body.data)}`);
  return { message: e.message, code: e.extensions?.['code'], argument: e.extensions?.['argument'] };
}

/** The versions as recorded on the ledger, read by a fold of its own. */
async function ledgerVersions(dataDir: string): Promise<readonly PublishedVersion[]> {
  const ledger = await openLedger({ dataDir, redisUrl: null });
  const registry = await openRegistry(ledger);
  const versions = [...registry.versions];
  registry.stop();
  await ledger.close();
  return versions;
}

describe('subgraph proposals through the gateway', () => {
  let ex: Exchange;
  const check = (input: Input, agency = 'tax') => ex.query(`query($i: SubgraphProposalInput!) { checkSubgraph(input: $i) { ${REPORT} } }`, { agency, variables: { i: input } });
  const propose = (input: Input, agency = 'tax') => ex.query(`mutation($i: SubgraphProposalInput!) { proposeSubgraph(input: $i) { ${PROPOSAL} } }`, { agency, variables: { i: input } });
  const approve = (id: string, reasons: string, as: { agency: string; roles: string[] } = COORDINATOR) =>
    ex.query(`mutation($id: String!, $r: String!) { approveProposal(id: $id, reasons: $r) { ${VERSION} } }`, { ...as, variables: { id, r: reasons } });
  const refuse = (id: string, reasons: string, as: { agency: string; roles: string[] } = COORDINATOR) =>
    ex.query(`mutation($id: String!, $r: String!) { refuseProposal(id: $id, reasons: $r) { ${PROPOSAL} } }`, { ...as, variables: { id, r: reasons } });
  const rollback = (version: number, reasons: string, as: { agency: string; roles: string[] } = COORDINATOR) =>
    ex.query(`mutation($v: Int!, $r: String!) { rollbackSupergraph(version: $v, reasons: $r) { ${VERSION} } }`, { ...as, variables: { v: version, r: reasons } });
  const versions = async () => data<{ version: number; hash: string; current: boolean; rollbackOf: number | null; changes: { coordinate: string; change: string; after: string | null }[] }[]>(await ex.query(`{ supergraphVersions { ${VERSION} } }`), 'supergraphVersions');

  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('serves version 1, the reference composition recorded on first start, as the current version', async () => {
    const file = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8');
    const [v1, ...others] = await versions();
    expect(others).toEqual([]);
    expect(v1).toMatchObject({ version: 1, hash: createHash('sha256').update(file).digest('hex'), proposal: null, rollbackOf: null, publishedBy: null, current: true, changes: [] });
    expect((v1 as unknown as { subgraphs: unknown[] }).subgraphs).toContainEqual({ name: 'exchange', member: 'itd', url: 'http://127.0.0.1:4007/graphql' });
  });

  it('checks a proposal without recording anything', async () => {
    const report = data<{ approvable: boolean; compositionErrors: string[]; readsFrom: string }>(await check(INVOICES), 'checkSubgraph');
    expect(report).toMatchObject({ approvable: true, compositionErrors: [] });
    expect(data<unknown[]>(await ex.query('{ proposals { id } }', COORDINATOR), 'proposals')).toEqual([]);
  });

  it('reports the composition errors of a proposal that does not compose, and it is not approvable', async () => {
    const broken = { ...INVOICES, sdl: INVOICES.sdl.replace('invoiceCount(year: Int!): Int', 'invoiceCount(year: Int!): Invoices') };
    const report = data<{ approvable: boolean; compositionErrors: string[] }>(await check(broken), 'checkSubgraph');
    expect(report.approvable).toBe(false);
    expect(report.compositionErrors.join('\n')).toMatch(/Invoices/);
  });

  it('records a proposal as PENDING with its check, seen by the proposer and the authority but not by another member', async () => {
    const p = data<{ id: string; status: string; member: string; proposedBy: string; report: { approvable: boolean } }>(await propose(INVOICES), 'proposeSubgraph');
    expect(p).toMatchObject({ id: expect.stringMatching(/^pr-\d+$/), status: 'PENDING', member: 'tax', proposedBy: 'tax-tester', report: { approvable: true } });
    const ids = async (agency: string) => data<{ id: string }[]>(await ex.query('{ proposals(status: PENDING) { id } }', { agency }), 'proposals').map((x) => x.id);
    expect(await ids('itd')).toContain(p.id);
    expect(await ids('tax')).toContain(p.id);
    expect(await ids('amr')).not.toContain(p.id);
    expect(errorOf(await ex.query(`{ proposal(id: "${p.id}") { id } }`, { agency: 'amr' })).code).toBe('FORBIDDEN');
  });

  it('refuses a refusal without reasons, and a refusal by anyone but a coordinator of itd', async () => {
    const p = data<{ id: string }>(await propose({ ...INVOICES, note: 'to refuse' }), 'proposeSubgraph');
    const empty = errorOf(await refuse(p.id, '   '));
    expect(empty).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'reasons' });
    expect(errorOf(await refuse(p.id, 'no', { agency: 'tax', roles: ['coordinator'] })).code).toBe('FORBIDDEN');
    expect(errorOf(await refuse(p.id, 'no', { agency: 'itd', roles: [] })).code).toBe('FORBIDDEN');
    const refused = data<{ status: string; reasons: string; decidedBy: string }>(await refuse(p.id, '与已提交的发票子图重复'), 'refuseProposal');
    expect(refused).toMatchObject({ status: 'REFUSED', reasons: '与已提交的发票子图重复', decidedBy: 'itd-tester' });
    expect(errorOf(await approve(p.id, 'after all'))).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('already REFUSED') });
  });

  it("approving publishes version 2 on the ledger: the proposal's subgraph added, its catalog entry, the composed supergraph", async () => {
    const p = data<{ id: string }>(await propose(INVOICES), 'proposeSubgraph');
    expect(errorOf(await approve(p.id, 'ok', { agency: 'tax', roles: [] })).code).toBe('FORBIDDEN');
    const v = data<{ version: number; proposal: string; current: boolean; publishedBy: string; changes: { coordinate: string; change: string; after: string | null }[] }>(await approve(p.id, '市场监管需要'), 'approveProposal');
    expect(v).toMatchObject({ version: 2, proposal: p.id, current: true, publishedBy: 'itd-tester' });
    expect(v.changes).toContainEqual({ coordinate: 'Enterprise.invoiceCount', change: 'ADDED', before: null, after: 'tax.invoices CONDITIONAL COMMERCIAL' });

    const recorded = (await ledgerVersions(ex.config.dataDir)).at(-1)!;
    expect(recorded).toMatchObject({ version: 2, proposal: p.id, rollbackOf: null, reasons: '市场监管需要' });
    expect(recorded.hash).toBe(createHash('sha256').update(recorded.supergraphSdl).digest('hex'));
    expect(recorded.subgraphs.map((s) => s.name)).toEqual(['amr', 'tax', 'hrss', 'eeb', 'psb', 'civil', 'exchange', 'tax-invoices']);
    expect(recorded.subgraphs.at(-1)).toMatchObject({ name: 'tax-invoices', member: 'tax', url: INVOICES.url });
    expect(recorded.catalog['tax.invoices']).toMatchObject({ nameEn: 'Invoices issued', purposes: ['market-supervision'] });
    expect(recorded.catalog['tax.credit-rating']).toBeDefined();
    expect(recorded.supergraphSdl).toContain('TAX_INVOICES @join__graph(name: "tax-invoices", url: "http://127.0.0.1:4010/graphql")');
    expect(recorded.supergraphSdl).toMatch(/Dataset: tax\.invoices \(Invoices issued\); provider: tax/);

    const proposal = data<{ status: string; version: number }>(await ex.query(`{ proposal(id: "${p.id}") { status version } }`, { agency: 'tax' }), 'proposal');
    expect(proposal).toEqual({ status: 'APPROVED', version: 2 });
  });

  it('re-checks on the current version at approval: a proposal that no longer composes is refused naming the problem', async () => {
    // Both checked fine against the same version; once the first is published the second claims its field.
    const first = data<{ id: string }>(await propose({ ...INVOICES, subgraph: 'tax-receipts', sdl: entitySdl('receiptCount', 'tax.receipts'), catalog: JSON.stringify({ 'tax.receipts': catalogEntry('Receipts') }) }), 'proposeSubgraph');
    const second = data<{ id: string; report: { approvable: boolean } }>(
      await propose({ subgraph: 'amr-receipts', url: 'https://amr.example.gov.cn/graphql', sdl: entitySdl('receiptCount', 'amr.receipts', 'UNCONDITIONAL', null), catalog: JSON.stringify({ 'amr.receipts': catalogEntry('Receipts (amr)', []) }) }, 'amr'),
      'proposeSubgraph',
    );
    expect(second.report.approvable).toBe(true);
    expect(data<{ version: number }>(await approve(first.id, 'ok'), 'approveProposal').version).toBe(3);
    const refused = errorOf(await approve(second.id, 'ok'));
    expect(refused.code).toBe('BAD_USER_INPUT');
    expect(refused.message).toMatch(/cannot be approved on version 3: .*Enterprise\.receiptCount/);
    expect((await versions()).length).toBe(3);
  });

  it('rolls back: the next version republishes an earlier one, with its hash', async () => {
    const before = await versions();
    const last = before.at(-1)!;
    expect(errorOf(await rollback(1, ''))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'reasons' });
    expect(errorOf(await rollback(1, 'x', { agency: 'tax', roles: ['coordinator'] })).code).toBe('FORBIDDEN');
    expect(errorOf(await rollback(99, 'x'))).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'version' });
    expect(errorOf(await rollback(last.version, 'x')).message).toContain('nothing to roll back');
    const v = data<{ version: number; hash: string; rollbackOf: number; proposal: string | null; changes: { coordinate: string; change: string }[] }>(await rollback(1, '发票子图故障，回退'), 'rollbackSupergraph');
    expect(v).toMatchObject({ version: last.version + 1, hash: before[0]!.hash, rollbackOf: 1, proposal: null });
    expect(v.changes).toContainEqual(expect.objectContaining({ coordinate: 'Enterprise.invoiceCount', change: 'REMOVED' }));
    const recorded = (await ledgerVersions(ex.config.dataDir)).at(-1)!;
    expect(recorded).toMatchObject({ version: last.version + 1, hash: before[0]!.hash, rollbackOf: 1 });
    expect((await versions()).filter((x) => x.current).map((x) => x.version)).toEqual([last.version + 1]);
  });

  it("refuses to let a member propose another member's subgraph, even after a rollback removed it", async () => {
    for (const name of ['tax', 'tax-invoices']) {
      const r = errorOf(await propose({ ...INVOICES, subgraph: name }, 'amr'));
      expect(r.code).toBe('FORBIDDEN');
      expect(r.message).toContain(`subgraph "${name}" belongs to tax`);
    }
    expect(errorOf(await check({ ...INVOICES, subgraph: 'tax' }, 'amr')).code).toBe('FORBIDDEN');
  });

  it.each([
    ['url', { url: 'ftp://tax.example/graphql' }, /url must be an http or https URL/],
    ['url', { url: 'not a url' }, /url must be an absolute http\(s\) URL/],
    ['sdl', { sdl: 'type Enterprise {' }, /sdl does not parse/],
    ['catalog', { catalog: '{"tax.invoices": ' }, /catalog is not JSON/],
    ['catalog', { catalog: JSON.stringify({ 'tax.invoices': { ...catalogEntry('x'), frequency: 'HOURLY' } }) }, /catalog entry "tax.invoices": frequency must be one of/],
    ['catalog', { catalog: JSON.stringify({ 'tax.other': catalogEntry('x') }) }, /catalog entry "tax.other" names a dataset the SDL does not declare/],
    ['subgraph', { subgraph: 'Tax Invoices' }, /subgraph must be a name/],
  ])('refuses a bad %s with BAD_USER_INPUT naming it', async (argument, change, message) => {
    const e = errorOf(await propose({ ...INVOICES, ...change }));
    expect(e).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(e.message).toMatch(message);
  });
});
