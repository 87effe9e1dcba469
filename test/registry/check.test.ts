import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import datasets from '../../schema/catalog/datasets.json' with { type: 'json' };
import type { CatalogEntry, ProposalTerms, SubgraphSpec, SupergraphVersion } from '../../ledger/events.ts';
import { openGrantStore, type GrantStore } from '../../ledger/grants.ts';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { datasetsOfSubgraphs, diffCatalogs } from '../../subgraphs/exchange/catalog/history.ts';
import { followUsage, type UsageFollower } from '../../subgraphs/exchange/oversight/usage-follower.ts';
import { checkProposal, type CheckDeps } from '../../subgraphs/exchange/registry/check.ts';
import { grantsWithPolicyFiles } from '../../subgraphs/exchange/registry/file-grants.ts';
import { logReads } from '../../subgraphs/exchange/registry/reads.ts';
import { ROOT, startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const CATALOG = datasets as unknown as Record<string, CatalogEntry>;
const reference = (): SubgraphSpec[] => referenceSubgraphs(ROOT).map((s) => ({ name: s.name, member: s.agency, url: s.url, sdl: s.sdl }));
const sdlOf = (name: string): string => reference().find((s) => s.name === name)!.sdl;

/** A version of the given subgraphs, composed for real. */
function version(subgraphs: readonly SubgraphSpec[]): SupergraphVersion {
  const composed = compose(subgraphs.map((s) => ({ name: s.name, agency: s.member, url: s.url, sdl: s.sdl })));
  if (!composed.ok) throw new Error(composed.errors.join('; '));
  return { version: 1, hash: 'h', supergraphSdl: composed.supergraphSdl, subgraphs, catalog: CATALOG, proposal: null, rollbackOf: null, reasons: 'test' };
}

function proposal(name: string, sdl: string, catalog: Record<string, CatalogEntry> = {}): ProposalTerms {
  return { subgraph: { name, member: name === 'exchange' ? 'itd' : name, url: `http://127.0.0.1:1/${name}`, sdl }, catalog, note: '' };
}

/** Checks without grants or reads: for the sections that do not depend on them. */
const still: CheckDeps = {
  grants: { snapshot: () => Promise.resolve({ grants: new Map() }) },
  reads: { from: 'access log', readers: () => Promise.resolve([]) },
  members: { isActive: () => true },
};
const check = (p: ProposalTerms, base: SupergraphVersion | null = null, deps: CheckDeps = still) => checkProposal({ base, proposal: p, proposer: p.subgraph.member }, deps);

const SHAREABLE_LINK = '@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective", "@shareable"])';
const withShareable = (sdl: string): string => sdl.replace('@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])', SHAREABLE_LINK);

describe('the check of a subgraph proposal', () => {
  it('approves every reference subgraph proposed again as it is, with nothing to report', async () => {
    for (const s of reference()) {
      const r = await check(proposal(s.name, s.sdl));
      expect(r, s.name).toEqual({ approvable: true, compositionErrors: [], undeclaredFields: [], sources: [], guardrails: [], breakingChanges: [], catalogDiff: [], readsFrom: 'access log' });
    }
  });

  it('reports composition errors and refuses the proposal', async () => {
    const r = await check(proposal('tax', sdlOf('tax').replace('taxpayerStatus: TaxpayerStatus', 'taxpayerStatus: NoSuchType')));
    expect(r.approvable).toBe(false);
    expect(r.compositionErrors.join('\n')).toMatch(/NoSuchType/);

    const unreadable = await check(proposal('tax', 'type Enterprise @key(fields: "uscc") {'));
    expect(unreadable.approvable).toBe(false);
    expect(unreadable.compositionErrors.join('\n')).toMatch(/^tax: schema does not parse/);
    expect(unreadable.breakingChanges).toEqual([]);
    expect(unreadable.catalogDiff).toEqual([]);
  });

  it('reports a field tax would resolve beside amr, both @shareable, which composition alone accepts (R-8)', async () => {
    const base = version(reference().map((s) => (s.name === 'amr' ? { ...s, sdl: withShareable(s.sdl).replace('  name: String @dataset', '  name: String @shareable @dataset') } : s)));
    const taxSdl = withShareable(sdlOf('tax')).replace('  uscc: USCC!\n', '  uscc: USCC!\n  name: String @shareable @dataset(id: "tax.taxpayer-registration", class: "UNCONDITIONAL")\n');
    const r = await check(proposal('tax', taxSdl), base);
    expect(r.sources).toEqual([
      { item: 'Enterprise.name', members: ['amr', 'tax'], message: expect.stringMatching(/^R-8 one data, one source: field Enterprise\.name would be resolved by subgraphs amr \(member amr\) and tax \(member tax\) \(each marks it @shareable/) },
    ]);
    expect(r.approvable).toBe(false);

    // Undeclared, the same field is still a second source, and a field without a dataset besides.
    const bare = await check(proposal('tax', withShareable(sdlOf('tax')).replace('  uscc: USCC!\n', '  uscc: USCC!\n  name: String @shareable\n')), base);
    expect(bare.compositionErrors).toEqual([]);
    expect(bare.undeclaredFields).toEqual(['Enterprise.name']);
    expect(bare.sources.map((s) => s.item)).toEqual(['Enterprise.name']);
  });

  it('does not count a key field that every subgraph of the entity holds as a second source', async () => {
    const r = await check(proposal('eeb', sdlOf('eeb')));
    expect(r.sources).toEqual([]);
    expect(r.undeclaredFields).toEqual([]);
  });

  it('reports a dataset that a second subgraph would declare (R-8)', async () => {
    const extra = `${sdlOf('tax').split('type Enterprise')[0]}type Enterprise @key(fields: "uscc") {\n  uscc: USCC!\n  creditNote: String @dataset(id: "tax.credit-rating", class: "CONDITIONAL", sensitivity: "COMMERCIAL")\n}\n`;
    const r = await check({ ...proposal('tax-extra', extra), subgraph: { name: 'tax-extra', member: 'tax', url: 'http://127.0.0.1:1/x', sdl: extra } });
    expect(r.sources).toEqual([{ item: 'tax.credit-rating', members: ['tax'], message: 'R-8 one data, one source: dataset tax.credit-rating would be declared by subgraphs tax (member tax) and tax-extra (member tax); one member provides a dataset, the others read it through the exchange' }]);
    expect(r.approvable).toBe(false);
  });

  it('reports a dataset the authority would host while its provider serves it too: two members, one dataset (R-8)', async () => {
    const hosted = sdlOf('exchange').replace(/type Person @key\(fields: "idNumber"\) \{\n {2}idNumber: IDNumber!\n/, (m) => `${m}  creditNote: String @dataset(id: "tax.credit-rating", class: "CONDITIONAL", sensitivity: "COMMERCIAL")\n`);
    expect(hosted).not.toBe(sdlOf('exchange'));
    const r = await check(proposal('exchange', hosted));
    expect(r.sources).toEqual([{ item: 'tax.credit-rating', members: ['itd', 'tax'], message: 'R-8 one data, one source: dataset tax.credit-rating would be declared by subgraphs tax (member tax) and exchange (member itd); one member provides a dataset, the others read it through the exchange' }]);
    expect(r.compositionErrors).toEqual([]);
  });

  it('lets the authority check a member\'s proposal again without a guardrail about who proposes', async () => {
    const r = await checkProposal({ base: null, proposal: proposal('tax', sdlOf('tax')), proposer: 'itd' }, still);
    expect(r.guardrails).toEqual([]);
    const other = await checkProposal({ base: null, proposal: proposal('tax', sdlOf('tax')), proposer: 'amr' }, still);
    expect(other.guardrails).toEqual(['subgraph tax names member tax but is proposed by amr: a member proposes its own subgraph']);
  });

  it('lists the fields without a dataset, never the entity key', async () => {
    const r = await check(proposal('tax', sdlOf('tax').replace('  uscc: USCC!\n', '  uscc: USCC!\n  vatRate: Float\n')));
    expect(r.undeclaredFields).toEqual(['Enterprise.vatRate']);
    expect(r.compositionErrors).toEqual([]);
    expect(r.approvable).toBe(false);
  });

  it('refuses sensitive data open to every agency, an inactive member and a catalog entry with an unknown purpose (R-4)', async () => {
    const open = sdlOf('tax').replace('@dataset(id: "tax.credit-rating", class: "CONDITIONAL", sensitivity: "COMMERCIAL")', '@dataset(id: "tax.credit-rating", class: "UNCONDITIONAL", sensitivity: "COMMERCIAL")');
    const r = await check(proposal('tax', open, { 'tax.credit-rating': { ...CATALOG['tax.credit-rating']!, purposes: ['market-supervision', 'fortune-telling'] } }), null, { ...still, members: { isActive: (code) => code !== 'tax' } });
    expect(r.approvable).toBe(false);
    expect(r.guardrails).toEqual([
      'tax is not an active member: only an active member publishes a subgraph',
      'tax.credit-rating: rule R-4 sensitive data stays conditional: a dataset with sensitivity COMMERCIAL must be CONDITIONAL or NOT_SHARED, not UNCONDITIONAL',
      'catalog entry tax.credit-rating: purpose "fortune-telling" is not one of the exchange\'s purpose codes',
    ]);
  });

  it('reports a subgraph proposed under another member\'s name', async () => {
    const r = await checkProposal({ base: null, proposal: { ...proposal('tax', sdlOf('tax')), subgraph: { name: 'tax', member: 'amr', url: 'http://127.0.0.1:1/t', sdl: sdlOf('tax') } }, proposer: 'amr' }, still);
    expect(r.guardrails).toContain('subgraph name tax belongs to member tax, which published it first');
  });

  it('lists breaking changes without refusing the proposal for them: a type change, a removed argument, a closer class', async () => {
    const tax = sdlOf('tax')
      .replace('taxCreditGrade: TaxCreditGrade\n', 'taxCreditGrade: String\n')
      .replace('annualTaxPaid(year: Int!): Float', 'annualTaxPaid: Float');
    const hrss = sdlOf('hrss').replace('insuredEmployees: Int @dataset(id: "hrss.enterprise-insurance", class: "CONDITIONAL")', 'insuredEmployees: Int @dataset(id: "hrss.enterprise-insurance", class: "NOT_SHARED")');
    const t = await check(proposal('tax', tax));
    expect(t.approvable).toBe(true);
    expect(t.breakingChanges.map((b) => [b.coordinate, b.change])).toEqual([
      ['Enterprise.taxCreditGrade', 'FIELD_TYPE_CHANGED'],
      ['Enterprise.annualTaxPaid(year:)', 'ARG_REMOVED'],
    ]);
    const h = await check(proposal('hrss', hrss));
    expect(h.approvable).toBe(true);
    expect(h.breakingChanges).toEqual([
      { coordinate: 'Enterprise.insuredEmployees', change: 'RECLASSIFIED', grants: [], readers: [], message: 'Enterprise.insuredEmployees is re-classed from CONDITIONAL to NOT_SHARED; no grant in force names hrss.enterprise-insurance; no agency read it in the last 90 days (access log)' },
    ]);
  });

  it('names the standing grants of the policy files in force at its clock beside the ledger\'s', async () => {
    const deps = (at: string): CheckDeps => ({ ...still, grants: grantsWithPolicyFiles(still.grants, path.join(ROOT, 'policies')), now: () => new Date(at) });
    const p = proposal('tax', sdlOf('tax').replace(/\n {2}"纳税信用等级[^\n]*"\n {2}taxCreditGrade: TaxCreditGrade\n {4}@dataset\([^)]*\)/, ''));
    const r = await check(p, null, deps('2027-06-01T00:00:00Z'));
    expect(r.breakingChanges).toEqual([
      expect.objectContaining({ coordinate: 'Enterprise.taxCreditGrade', change: 'FIELD_REMOVED', grants: ['g-ref-amr-tax-1'], message: expect.stringContaining('grants in force naming tax.credit-rating: g-ref-amr-tax-1 (amr)') }),
    ]);
    // policies/grants.csv grants it until 2028-01-01 (exclusive): at that clock, none is in force.
    expect((await check(p, null, deps('2028-01-01T00:00:00Z'))).breakingChanges[0]!.grants).toEqual([]);
  });

  it('diffs every catalog attribute: entries changed, a dataset added with its fields, a field moved out', async () => {
    const tax = sdlOf('tax').replace('  uscc: USCC!\n', '  uscc: USCC!\n  vatRate: Float @dataset(id: "tax.vat", class: "CONDITIONAL", sensitivity: "COMMERCIAL")\n');
    const vat: CatalogEntry = { name: '增值税税率', nameEn: 'VAT rate', description: '适用增值税税率', format: 'GraphQL / JSON', frequency: 'MONTHLY', conditions: '条件共享', purposes: ['tax-collection'] };
    const credit = { ...CATALOG['tax.credit-rating']!, nameEn: 'Tax credit grade', frequency: 'MONTHLY', purposes: ['market-supervision'] };
    const r = await check(proposal('tax', tax, { 'tax.vat': vat, 'tax.credit-rating': credit }));
    expect(r.approvable).toBe(true);
    expect(r.catalogDiff).toEqual([
      { dataset: 'tax.credit-rating', field: 'nameEn', before: 'Tax credit rating', after: 'Tax credit grade' },
      { dataset: 'tax.credit-rating', field: 'frequency', before: 'QUARTERLY', after: 'MONTHLY' },
      { dataset: 'tax.credit-rating', field: 'purposes', before: 'market-supervision, credit-supervision, environmental-enforcement', after: 'market-supervision' },
      { dataset: 'tax.vat', field: 'class', before: null, after: 'CONDITIONAL' },
      { dataset: 'tax.vat', field: 'sensitivity', before: null, after: 'COMMERCIAL' },
      { dataset: 'tax.vat', field: 'name', before: null, after: '增值税税率' },
      { dataset: 'tax.vat', field: 'nameEn', before: null, after: 'VAT rate' },
      { dataset: 'tax.vat', field: 'description', before: null, after: '适用增值税税率' },
      { dataset: 'tax.vat', field: 'format', before: null, after: 'GraphQL / JSON' },
      { dataset: 'tax.vat', field: 'frequency', before: null, after: 'MONTHLY' },
      { dataset: 'tax.vat', field: 'conditions', before: null, after: '条件共享' },
      { dataset: 'tax.vat', field: 'purposes', before: null, after: 'tax-collection' },
      { dataset: 'tax.vat', field: 'fields', before: null, after: 'Enterprise.vatRate' },
    ]);

    const moved = await check(proposal('eeb', sdlOf('eeb').replace(/\n {2}validUntil: String @dataset\(id: "eeb.discharge-permits", class: "UNCONDITIONAL"\)/, '')));
    expect(moved.catalogDiff).toEqual([{ dataset: 'eeb.discharge-permits', field: 'fields', before: 'DischargePermit.validUntil', after: null }]);
  });

  it('records every catalog attribute in the catalog history, not only class, sensitivity and fields', () => {
    const before = datasetsOfSubgraphs(reference(), CATALOG);
    const after = datasetsOfSubgraphs(reference(), { ...CATALOG, 'tax.credit-rating': { ...CATALOG['tax.credit-rating']!, description: '新的说明', conditions: '另行约定', purposes: ['market-supervision'] } });
    expect(diffCatalogs(before, after)).toEqual([
      { dataset: 'tax.credit-rating', change: 'DESCRIPTION_CHANGED', from: '年度纳税信用评价结果 (A/B/M/C/D)', to: '新的说明' },
      { dataset: 'tax.credit-rating', change: 'CONDITIONS_CHANGED', from: CATALOG['tax.credit-rating']!.conditions, to: '另行约定' },
      { dataset: 'tax.credit-rating', change: 'PURPOSES_CHANGED', from: 'market-supervision, credit-supervision, environmental-enforcement', to: 'market-supervision' },
    ]);
  });
});

describe('the check of a proposal that removes a field agencies read', () => {
  let ex: Exchange;
  let follower: UsageFollower;
  let grants: GrantStore;
  const grantsDir = mkdtempSync(path.join(tmpdir(), 'check-grants-'));
  const day = 86_400_000;

  beforeAll(async () => {
    ex = await startExchange();
    // Reads through the real gateway: tax reads insured employees twice (its standing grant), amr is refused.
    for (let i = 0; i < 2; i++) expect((await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' })).body.errors).toBeUndefined();
    expect((await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'amr', purpose: 'market-supervision' })).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'hrss' })).body.errors).toBeUndefined();
    follower = followUsage({ dataDir: ex.config.dataDir, redisUrl: null, redisPrefix: '' }, () => undefined);
    grants = await openGrantStore({ dataDir: grantsDir, redisUrl: null, log: () => undefined });
    const now = Date.now();
    await grants.apply({ op: 'grant', grant: { id: 'g-tax-insurance', consumer: 'tax', dataset: 'hrss.enterprise-insurance', purposes: ['tax-collection'], validFrom: new Date(now - 30 * day).toISOString(), validUntil: new Date(now + 365 * day).toISOString() } });
    await grants.apply({ op: 'grant', grant: { id: 'g-expired', consumer: 'eeb', dataset: 'hrss.enterprise-insurance', purposes: ['tax-collection'], validFrom: new Date(now - 60 * day).toISOString(), validUntil: new Date(now - 1 * day).toISOString() } });
    await grants.apply({ op: 'grant', grant: { id: 'g-other', consumer: 'amr', dataset: 'tax.credit-rating', purposes: ['market-supervision'], validFrom: new Date(now - 30 * day).toISOString(), validUntil: new Date(now + 365 * day).toISOString() } });
  });
  afterAll(async () => {
    await follower.close();
    await grants.close();
    await ex.close();
    rmSync(grantsDir, { recursive: true, force: true });
  });

  const removed = () => proposal('hrss', sdlOf('hrss').replace(/\n {2}"参保职工人数[^\n]*"\n {2}insuredEmployees: Int @dataset\(id: "hrss.enterprise-insurance", class: "CONDITIONAL"\)/, ''));

  it('names the grants in force on its dataset and the agencies that read it in the last 90 days, from the access log', async () => {
    const r = await check(removed(), null, { grants, reads: logReads(follower), members: { isActive: () => true } });
    expect(r.readsFrom).toBe('access log');
    expect(r.approvable).toBe(true);
    expect(r.breakingChanges).toEqual([
      {
        coordinate: 'Enterprise.insuredEmployees',
        change: 'FIELD_REMOVED',
        grants: ['g-tax-insurance'],
        readers: [{ agency: 'tax', reads: 2 }, { agency: 'hrss', reads: 1 }],
        message: 'field Enterprise.insuredEmployees is removed; grants in force naming hrss.enterprise-insurance: g-tax-insurance (tax); read in the last 90 days by tax (2), hrss (1) (access log)',
      },
    ]);
    expect(r.catalogDiff).toContainEqual({ dataset: 'hrss.enterprise-insurance', field: 'fields', before: 'Enterprise.insuredEmployees', after: null });
  });

  it('reports the same through the gateway: checkSubgraph names the agencies that read the field, from the access log', async () => {
    const p = removed();
    const res = await ex.query(
      'query($i: SubgraphProposalInput!) { checkSubgraph(input: $i) { approvable readsFrom breakingChanges { coordinate change grants readers { agency reads } } } }',
      { agency: 'hrss', variables: { i: { subgraph: 'hrss', url: p.subgraph.url, sdl: p.subgraph.sdl } } },
    );
    expect(res.body.errors).toBeUndefined();
    // The exchange's ledger holds no grant here: the one listed is the standing grant of policies/grants.csv.
    expect(res.body.data?.['checkSubgraph']).toEqual({
      approvable: true,
      readsFrom: 'access log',
      breakingChanges: [{ coordinate: 'Enterprise.insuredEmployees', change: 'FIELD_REMOVED', grants: ['g-ref-tax-hrss-1'], readers: [{ agency: 'tax', reads: 2 }, { agency: 'hrss', reads: 1 }] }],
    });
  });

  it('counts only the 90 days before the injected clock', async () => {
    const later = new Date(Date.now() + 91 * day);
    const r = await check(removed(), null, { grants, reads: logReads(follower), members: { isActive: () => true }, now: () => later });
    expect(r.breakingChanges[0]!.readers).toEqual([]);
    expect(r.breakingChanges[0]!.grants).toEqual(['g-tax-insurance']);
  });
});
