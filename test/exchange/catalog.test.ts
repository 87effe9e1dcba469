import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { changesNeedingAcceptance, datasetsOfSupergraph, diffCatalogs } from '../../subgraphs/exchange/catalog/history.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

const CATALOG = 'query($s: String, $first: Int, $after: String, $p: String) { catalog(search: $s, first: $first, after: $after, provider: $p) { totalCount next items { id name nameEn provider class frequency freshness purposes provisionMethod } } }';

describe('the catalog run by the authority', () => {
  let ex: Exchange;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-catalog-'));
    ex = await startExchange({ dataDir });
  });
  afterAll(async () => {
    await ex.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  type Page = { totalCount: number; next: string | null; items: { id: string; name: string; nameEn: string; freshness: string; purposes: string[] }[] };
  const catalog = async (variables: Record<string, unknown>, agency = 'civil'): Promise<Page> => {
    const res = await ex.query(CATALOG, { agency, variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.['catalog'] as Page;
  };

  it('finds a dataset by its Chinese name', async () => {
    const page = await catalog({ s: '纳税信用' });
    expect(page.items.map((d) => d.id)).toEqual(['tax.credit-rating']);
    expect(page.items[0]).toMatchObject({ nameEn: 'Tax credit rating', purposes: expect.arrayContaining(['market-supervision']) });
  });

  it('finds a dataset by its English name, case-insensitively', async () => {
    const page = await catalog({ s: 'discharge permits' });
    expect(page.items.map((d) => d.id)).toEqual(['eeb.discharge-permits']);
  });

  it('pages through every dataset exactly once', async () => {
    const all = await catalog({ first: 100 });
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Page = await catalog({ first: 5, after });
      seen.push(...page.items.map((d) => d.id));
      after = page.next;
    } while (after !== null);
    expect(seen).toEqual(all.items.map((d) => d.id));
    expect(seen.length).toBe(all.totalCount);
  });

  it('lets only the provider report an update, which makes an overdue dataset fresh', async () => {
    const overdue = await ex.query('{ overdueDatasets { id } }', { agency: 'hrss' });
    expect((overdue.body.data?.['overdueDatasets'] as { id: string }[]).map((d) => d.id)).toContain('hrss.enterprise-insurance');
    const refused = await ex.query('mutation { reportDatasetUpdate(dataset: "hrss.enterprise-insurance", asOf: "2026-11-24T08:00:00+08:00") { freshness } }', { agency: 'tax' });
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const res = await ex.query(`mutation($t: String!) { reportDatasetUpdate(dataset: "hrss.enterprise-insurance", asOf: $t) { freshness lastUpdate } }`, { agency: 'hrss', variables: { t: new Date().toISOString() } });
    expect(res.body.data?.['reportDatasetUpdate']).toMatchObject({ freshness: 'FRESH' });
    const health = (await (await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['coordinator'])}` } })).json()) as { freshness: { overdue: string[] } };
    expect(health.freshness.overdue).not.toContain('hrss.enterprise-insurance');
  });

  it('publishes 2026 emission totals only after eeb, drc and stats have each confirmed them (R-E11)', async () => {
    const q = '{ regionEmissionTotals(year: 2026, region: "445202") { cod confirmedBy } }';
    const confirm = 'mutation { confirmEmissionTotals(year: 2026, region: "445202") { confirmedBy published } }';
    for (const agency of ['eeb', 'drc']) {
      const c = await ex.query(confirm, { agency });
      expect(c.body.data?.['confirmEmissionTotals']).toMatchObject({ published: false });
      const r = await ex.query(q, { agency: 'amr' });
      expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason: 'UNPUBLISHED' } });
    }
    expect((await ex.query(confirm, { agency: 'drc' })).body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((await ex.query(confirm, { agency: 'tax' })).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const last = await ex.query(confirm, { agency: 'stats' });
    expect(last.body.data?.['confirmEmissionTotals']).toEqual({ confirmedBy: ['eeb', 'drc', 'stats'], published: true });
    const r = await ex.query(q, { agency: 'amr' });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.['regionEmissionTotals']).toMatchObject({ cod: expect.any(Number), confirmedBy: ['eeb', 'drc', 'stats'] });
  });

  it('records inconsistency reports and the provider\u2019s written answer (R-8, R-27)', async () => {
    const filed = await ex.query('mutation { reportInconsistency(dataset: "amr.enterprise-registration", entityKey: "91445202MA4W3K7PX2", otherDataset: "tax.taxpayer-registration", description: "登记地址与税务登记不一致") { id status } }', { agency: 'tax' });
    const id = (filed.body.data?.['reportInconsistency'] as { id: string }).id;
    expect((await ex.query(`mutation { answerInconsistency(id: "${id}", answer: "x", status: RESOLVED) { status } }`, { agency: 'eeb' })).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const answered = await ex.query(`mutation { answerInconsistency(id: "${id}", answer: "已核实并更正住所", status: RESOLVED) { status answer answeredBy } }`, { agency: 'amr' });
    expect(answered.body.data?.['answerInconsistency']).toEqual({ status: 'RESOLVED', answer: '已核实并更正住所', answeredBy: 'amr' });
  });

  it('keeps reports and confirmations across a restart', async () => {
    await ex.close();
    ex = await startExchange({ dataDir });
    const r = await ex.query('{ regionEmissionTotals(year: 2026, region: "445202") { confirmedBy } }', { agency: 'amr' });
    expect(r.body.data?.['regionEmissionTotals']).toEqual({ confirmedBy: ['eeb', 'drc', 'stats'] });
    const reports = await ex.query('{ inconsistencyReports { status reportedBy } }', { agency: 'itd' });
    expect(reports.body.data?.['inconsistencyReports']).toEqual([{ status: 'RESOLVED', reportedBy: 'tax' }]);
  });

  it('returns the catalog\u2019s change history', async () => {
    const res = await ex.query('{ catalogChanges { version changes { dataset change } } }', { agency: 'civil' });
    const versions = res.body.data?.['catalogChanges'] as { version: number; changes: { dataset: string; change: string }[] }[];
    expect(versions[0]!.changes).toContainEqual({ dataset: 'tax.credit-rating', change: 'ADDED' });
  });
});

describe('catalog versions across compositions', () => {
  const sdlOf = (edit: (name: string, sdl: string) => string): string => {
    const r = compose(referenceSubgraphs(ROOT).map((s) => ({ ...s, sdl: edit(s.name, s.sdl) })));
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.supergraphSdl;
  };

  it('records a class change, a field change and a removal between two compositions', () => {
    const before = datasetsOfSupergraph(sdlOf((_, s) => s));
    const after = datasetsOfSupergraph(
      sdlOf((name, s) => {
        if (name === 'hrss') return s.replace('insuredEmployees: Int @dataset(id: "hrss.enterprise-insurance", class: "CONDITIONAL")', 'insuredEmployees: Int @dataset(id: "hrss.enterprise-insurance", class: "UNCONDITIONAL")');
        if (name === 'civil') return s.replace(/\n {2}"婚姻登记状态"\n {2}maritalStatus: MaritalStatus\n.*\n/, '\n');
        if (name === 'eeb') return s.replace('  validUntil: String @dataset(id: "eeb.discharge-permits", class: "UNCONDITIONAL")\n', '');
        return s;
      }),
    );
    const changes = diffCatalogs(before, after);
    expect(changes).toContainEqual({ dataset: 'hrss.enterprise-insurance', change: 'CLASS_CHANGED', from: 'CONDITIONAL', to: 'UNCONDITIONAL' });
    expect(changes).toContainEqual({ dataset: 'civil.marriage-registration', change: 'REMOVED', from: 'CONDITIONAL', to: null });
    expect(changes.find((c) => c.dataset === 'eeb.discharge-permits')?.change).toBe('FIELDS_CHANGED');
    const warnings = changesNeedingAcceptance(changes, new Set(['civil.marriage-registration']));
    expect(warnings).toEqual([
      'hrss.enterprise-insurance: rule R-4 a class change needs --accept: CONDITIONAL → UNCONDITIONAL opens it to every agency without a grant',
      'civil.marriage-registration: removed while active grants name it',
    ]);
  });
});
