import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import datasets from '../../schema/catalog/datasets.json' with { type: 'json' };
import type { CatalogEntry } from '../../ledger/events.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { answerWhen } from '../helpers/wait.ts';

const REFERENCE = datasets as unknown as Record<string, CatalogEntry>;
const COORDINATOR = { sub: 'itd-coordinator', agency: 'itd' };

/** A dataset a new tax subgraph version adds on a new field; its entry is overdue (a daily dataset last updated in January). */
const INVOICES: CatalogEntry = {
  name: '发票开具信息',
  nameEn: 'Invoices issued',
  description: '企业开具发票的数量',
  format: 'GraphQL / JSON',
  frequency: 'DAILY',
  conditions: '条件共享：经税务部门批准',
  purposes: ['market-supervision'],
  lastUpdate: '2026-01-05T10:00:00+08:00',
};

/** hrss's enterprise insurance, catalogued in version 2 for environmental enforcement too. */
const WIDER_INSURANCE: CatalogEntry = { ...REFERENCE['hrss.enterprise-insurance']!, purposes: [...REFERENCE['hrss.enterprise-insurance']!.purposes, 'environmental-enforcement'] };

/** The reference subgraphs, edited, composed as a published version would be. */
function supergraphOf(edit: (name: string, sdl: string) => string): { sdl: string; subgraphs: { name: string; member: string; url: string; sdl: string }[] } {
  const sources = referenceSubgraphs(ROOT).map((s) => ({ ...s, sdl: edit(s.name, s.sdl) }));
  const r = compose(sources);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return { sdl: r.supergraphSdl, subgraphs: sources.map((s) => ({ name: s.name, member: s.agency, url: s.url, sdl: s.sdl })) };
}

/** Version 2: tax adds Enterprise.invoicesIssued (tax.invoice-records); civil withdraws Person.maritalStatus (civil.marriage-registration). */
const changed = (name: string, sdl: string): string => {
  if (name === 'tax') {
    const payments = '    @dataset(id: "tax.tax-payments", class: "NOT_SHARED", sensitivity: "COMMERCIAL")\n';
    return sdl.replace(payments, `${payments}  invoicesIssued: Int @dataset(id: "tax.invoice-records", class: "CONDITIONAL")\n`);
  }
  if (name === 'civil') return sdl.replace(/\n {2}"婚姻登记状态"\n {2}maritalStatus: MaritalStatus\n.*\n/, '\n');
  return sdl;
};

async function publish(ledger: Ledger, version: number, edit: (name: string, sdl: string) => string, catalog: Record<string, CatalogEntry>, reasons: string): Promise<void> {
  const { sdl, subgraphs } = supergraphOf(edit);
  const hash = createHash('sha256').update(sdl).digest('hex');
  await ledger.record({ type: 'supergraph.published', data: { version, hash, supergraphSdl: sdl, subgraphs, catalog, proposal: null, rollbackOf: null, reasons } }, COORDINATOR);
}

const CATALOG = 'query($s: String) { catalog(search: $s, first: 100) { totalCount items { id name nameEn provider class frequency freshness purposes coordinates } } }';
const FILE = 'mutation($p: String!, $d: [String!]!, $u: [String!]!) { fileSharingRequest(provider: $p, datasets: $d, purposes: $u, legalBasis: "《揭阳市政务数据共享试点》第三条", justification: "履职需要", validUntil: "2030-12-31") { id status } }';

describe('the catalog follows each published supergraph version (R-6)', () => {
  let ex: Exchange;
  let ledger: Ledger;
  let marriageRequest: string;
  let pendingRequest: string;
  type Item = { id: string; name: string; nameEn: string; provider: string; class: string; frequency: string; freshness: string; purposes: string[]; coordinates: string[] };
  const catalog = async (search: string | null = null): Promise<{ totalCount: number; items: Item[] }> => {
    const res = await ex.query(CATALOG, { agency: 'amr', variables: { s: search } });
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.['catalog'] as { totalCount: number; items: Item[] };
  };
  const compositions = (JSON.parse(readFileSync(path.join(ROOT, 'schema/catalog-history.json'), 'utf8')) as unknown[]).length;

  beforeAll(async () => {
    ex = await startExchange();
    ledger = await openLedger({ dataDir: ex.config.dataDir, redisUrl: null });
    // Before any version: a request for the marriage registration, approved, so a grant names it.
    const filed = await ex.query(FILE, { agency: 'hrss', variables: { p: 'civil', d: ['civil.marriage-registration'], u: ['social-insurance-administration'] } });
    expect(filed.body.errors).toBeUndefined();
    marriageRequest = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: 'civil', variables: { id: marriageRequest } });
    expect(approved.body.errors).toBeUndefined();
    // And one left pending.
    const pending = await ex.query(FILE, { agency: 'psb', variables: { p: 'civil', d: ['civil.marriage-registration'], u: ['civil-affairs'] } });
    expect(pending.body.errors).toBeUndefined();
    pendingRequest = (pending.body.data?.['fileSharingRequest'] as { id: string }).id;
    // civil last updated the marriage registration in June 2025: overdue at the end of 2025.
    const update = await ex.query('mutation { reportDatasetUpdate(dataset: "civil.marriage-registration", asOf: "2025-06-01T10:00:00+08:00") { id } }', { agency: 'civil' });
    expect(update.body.errors).toBeUndefined();
  });
  const overdueOf = async (agency: string, year: number): Promise<number> => {
    const res = await ex.query('query($y: Int!) { annualEvaluation(year: $y) { draft { agency datasetsOverdue } } }', { agency, variables: { y: year } });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data?.['annualEvaluation'] as { draft: { datasetsOverdue: number }[] }).draft[0]!.datasetsOverdue;
  };
  afterAll(async () => {
    await ledger.close();
    await ex.close();
  });

  it('serves the seed, version 1, with the reference catalog and the history of the compositions before the registry', async () => {
    const versions = await ex.query('{ supergraphVersions { version current } }', { agency: 'amr' });
    expect(versions.body.data?.['supergraphVersions']).toEqual([{ version: 1, current: true }]);
    const page = await catalog();
    expect(page.items.map((d) => d.id)).toContain('civil.marriage-registration');
    expect(page.items.map((d) => d.id)).not.toContain('tax.invoice-records');
    const history = await ex.query('{ catalogChanges { version supergraphVersion } }', { agency: 'amr' });
    expect((history.body.data?.['catalogChanges'] as unknown[]).length).toBe(compositions);
    expect(await overdueOf('civil', 2025)).toBe(1);
    expect(await overdueOf('civil', new Date().getFullYear())).toBe(1);
  });

  it('serves a version published while the exchange runs, without a restart', async () => {
    await publish(ledger, 2, changed, { ...REFERENCE, 'tax.invoice-records': INVOICES, 'hrss.enterprise-insurance': WIDER_INSURANCE }, 'tax catalogs its invoices; civil withdraws the marriage registration');
    const page = await answerWhen(() => catalog(), (p) => p.items.some((d) => d.id === 'tax.invoice-records'));
    const invoices = page.items.find((d) => d.id === 'tax.invoice-records');
    expect(invoices).toEqual({
      id: 'tax.invoice-records',
      name: '发票开具信息',
      nameEn: 'Invoices issued',
      provider: 'tax',
      class: 'CONDITIONAL',
      frequency: 'DAILY',
      freshness: 'OVERDUE',
      purposes: ['market-supervision'],
      coordinates: ['Enterprise.invoicesIssued'],
    });
    expect(page.items.map((d) => d.id)).not.toContain('civil.marriage-registration');
    expect((await catalog('发票')).items.map((d) => d.id)).toEqual(['tax.invoice-records']);
    const overdue = await ex.query('{ overdueDatasets { id } }', { agency: 'tax' });
    expect((overdue.body.data?.['overdueDatasets'] as { id: string }[]).map((d) => d.id)).toContain('tax.invoice-records');
  });

  it('adds one history entry per version after the seed, with its number, approver and catalog diff', async () => {
    const res = await ex.query('{ catalogChanges { version at supergraphVersion approvedBy reasons changes { dataset change from to } } }', { agency: 'amr' });
    expect(res.body.errors).toBeUndefined();
    const history = res.body.data?.['catalogChanges'] as { version: number; supergraphVersion: number | null; approvedBy: string | null; reasons: string | null; changes: { dataset: string; change: string }[] }[];
    expect(history).toHaveLength(compositions + 1);
    expect(history[compositions - 1]).toMatchObject({ supergraphVersion: null, approvedBy: null });
    const last = history[compositions]!;
    expect(last).toMatchObject({ version: compositions + 1, supergraphVersion: 2, approvedBy: 'itd-coordinator', reasons: 'tax catalogs its invoices; civil withdraws the marriage registration' });
    expect(last.changes).toEqual(
      expect.arrayContaining([
        { dataset: 'tax.invoice-records', change: 'ADDED', from: null, to: 'CONDITIONAL' },
        { dataset: 'civil.marriage-registration', change: 'REMOVED', from: 'CONDITIONAL', to: null },
        { dataset: 'hrss.enterprise-insurance', change: 'PURPOSES_CHANGED', from: 'tax-collection, statistics', to: 'tax-collection, statistics, environmental-enforcement' },
      ]),
    );
  });

  it('lets a dataset the version added be requested, for the purposes its entry lists only', async () => {
    const filed = await ex.query(FILE, { agency: 'amr', variables: { p: 'tax', d: ['tax.invoice-records'], u: ['market-supervision'] } });
    expect(filed.body.errors).toBeUndefined();
    expect(filed.body.data?.['fileSharingRequest']).toMatchObject({ status: 'PENDING' });
    const off = await ex.query(FILE, { agency: 'amr', variables: { p: 'tax', d: ['tax.invoice-records'], u: ['tax-collection'] } });
    expect(off.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'purposes' } });
    expect(off.body.errors?.[0]?.message).toContain('"tax-collection" is not catalogued for tax.invoice-records');
  });

  it('checks purposes against the current version: one it adds to an entry can be requested', async () => {
    const filed = await ex.query(FILE, { agency: 'eeb', variables: { p: 'hrss', d: ['hrss.enterprise-insurance'], u: ['environmental-enforcement'] } });
    expect(filed.body.errors).toBeUndefined();
    expect(filed.body.data?.['fileSharingRequest']).toMatchObject({ status: 'PENDING' });
  });

  it('refuses a new request for a dataset the version removed, and keeps the history of the one granted before', async () => {
    const refused = await ex.query(FILE, { agency: 'hrss', variables: { p: 'civil', d: ['civil.marriage-registration'], u: ['social-insurance-administration'] } });
    expect(refused.body.errors?.[0]).toMatchObject({ message: expect.stringContaining('unknown dataset "civil.marriage-registration": no catalogued dataset has this id') as unknown, extensions: { code: 'BAD_USER_INPUT', argument: 'datasets' } });
    const earlier = await ex.query('query($id: ID!) { sharingRequest(id: $id) { status datasets history { type } } }', { agency: 'hrss', variables: { id: marriageRequest } });
    expect(earlier.body.data?.['sharingRequest']).toEqual({ status: 'APPROVED', datasets: ['civil.marriage-registration'], history: [{ type: 'request.filed' }, { type: 'request.approved' }] });
  });

  it('refuses to approve a pending request for a removed dataset, and lets its provider revoke a grant that names it', async () => {
    const approve = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: 'civil', variables: { id: pendingRequest } });
    expect(approve.body.errors?.[0]).toMatchObject({ message: `request ${pendingRequest} cannot be granted: dataset civil.marriage-registration is no longer in the catalog`, extensions: { code: 'BAD_USER_INPUT', argument: 'id' } });
    const revoke = await ex.query('mutation($id: ID!) { revokeGrant(id: $id, reasons: "数据集已撤销") }', { agency: 'civil', variables: { id: `g-${marriageRequest}-1` } });
    expect(revoke.body.errors).toBeUndefined();
    expect(revoke.body.data?.['revokeGrant']).toBe(true);
  });

  it('counts a removed dataset in the evaluation of the years it was catalogued only', async () => {
    expect(await overdueOf('civil', 2025)).toBe(1);
    expect(await overdueOf('civil', new Date().getFullYear())).toBe(0);
  });

  it('counts the datasets of the current version in the annual evaluation', async () => {
    const year = new Date().getFullYear();
    const res = await ex.query('query($y: Int!) { annualEvaluation(year: $y) { draft { agency datasetsOverdue } } }', { agency: 'tax', variables: { y: year } });
    expect(res.body.errors).toBeUndefined();
    const rows = (res.body.data?.['annualEvaluation'] as { draft: { agency: string; datasetsOverdue: number }[] }).draft;
    const overdue = await ex.query('{ overdueDatasets { id provider } }', { agency: 'tax' });
    const taxOverdue = (overdue.body.data?.['overdueDatasets'] as { id: string; provider: string }[]).filter((d) => d.provider === 'tax');
    expect(taxOverdue.map((d) => d.id)).toContain('tax.invoice-records');
    expect(rows).toEqual([{ agency: 'tax', datasetsOverdue: taxOverdue.length }]);
  });
});
