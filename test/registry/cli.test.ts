import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { INVOICES, entitySdl, registry } from './proposal.ts';


describe('npm run registry', () => {
  let ex: Exchange;
  let dataDir: string;
  let schema: string;
  let catalog: string;
  let broken: string;
  const tax = (): string => ex.token('tax');
  const coordinator = (): string => ex.token('itd', ['coordinator']);
  const proposal = (file = schema): string[] => ['--subgraph', INVOICES.subgraph, '--url', INVOICES.url, '--schema', file, '--catalog', catalog];

  beforeAll(async () => {
    ex = await startExchange();
    dataDir = ex.config.dataDir;
    schema = path.join(dataDir, 'invoices.graphql');
    catalog = path.join(dataDir, 'invoices.json');
    broken = path.join(dataDir, 'broken.graphql');
    writeFileSync(schema, INVOICES.sdl);
    writeFileSync(catalog, INVOICES.catalog);
    writeFileSync(broken, entitySdl('invoiceCount', 'tax.invoices').replace('): Int', '): Invoice'));
  });
  afterAll(async () => {
    await ex.close();
  });

  it('check prints the report and exits 0 when approvable, 1 naming the composition errors when not', async () => {
    const ok = await registry(dataDir, ['check', ...proposal(), '--token', tax()]);
    expect(ok.status).toBe(0);
    expect(ok.out).toContain('approvable: yes');
    expect(ok.out).toContain('composition errors (0): none');
    const bad = await registry(dataDir, ['check', ...proposal(broken), '--token', tax()]);
    expect(bad.status).toBe(1);
    expect(bad.out).toContain('approvable: NO');
    expect(bad.out).toMatch(/composition errors \([1-9]\d*\):\n {2}- .*Invoice/);
  });

  it('check names the standing grant of policies/grants.csv on a field the proposal removes', async () => {
    const sdl = readFileSync(path.join(ROOT, 'subgraphs/tax/schema.graphql'), 'utf8').replace(/\n {2}"纳税信用等级[^\n]*"\n {2}taxCreditGrade: TaxCreditGrade\n {4}@dataset\([^)]*\)/, '');
    const file = path.join(dataDir, 'tax-without-grade.graphql');
    writeFileSync(file, sdl);
    const r = await registry(dataDir, ['check', '--subgraph', 'tax', '--url', 'http://127.0.0.1:4002/graphql', '--schema', file, '--token', tax()]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Enterprise\.taxCreditGrade FIELD_REMOVED: .*grants in force naming tax\.credit-rating: g-ref-amr-tax-1 \(amr\).*; grants: g-ref-amr-tax-1;/);
  });

  it('propose prints the proposal id alone on its last line; approve publishes it as version 2, which list shows current', async () => {
    const proposed = await registry(dataDir, ['propose', ...proposal(), '--note', 'invoices', '--token', tax()]);
    expect(proposed.status).toBe(0);
    const id = proposed.stdout.trimEnd().split('\n').at(-1)!;
    expect(id).toMatch(/^pr-\d+$/);
    const pending = await registry(dataDir, ['list']);
    expect(pending.out).toMatch(new RegExp(`${id} +subgraph tax-invoices of tax .* approvable: invoices`));

    expect((await registry(dataDir, ['approve', id, '--reasons', 'ok', '--token', tax()])).status).toBe(1);
    const approved = await registry(dataDir, ['approve', id, '--reasons', '市场监管需要', '--token', coordinator()]);
    expect(approved.status).toBe(0);
    expect(approved.out).toMatch(new RegExp(`approved ${id}: published supergraph version 2 \\(sha256 [0-9a-f]{64}\\)`));

    const list = await registry(dataDir, ['list']);
    expect(list.out).toMatch(/supergraph versions \(2\):\n {5,}1 .* first version: the reference composition/);
    expect(list.out).toMatch(new RegExp(`\\* +2 .* itd-tester +proposal ${id}: 市场监管需要`));
    expect(list.out).toContain('pending proposals (0): none');

    // The exchange folds what the CLI recorded.
    const r = await ex.query('{ supergraphVersions { version current } }');
    expect(r.body.data?.['supergraphVersions']).toEqual([{ version: 1, current: false }, { version: 2, current: true }]);
  });

  it('refuse needs reasons; rollback republishes version 1 as the next version', async () => {
    const proposed = await registry(dataDir, ['propose', '--subgraph', 'tax-extra', '--url', 'https://tax.example.gov.cn/graphql', '--schema', schema, '--catalog', catalog, '--token', tax()]);
    const id = proposed.stdout.trimEnd().split('\n').at(-1)!;
    const noReasons = await registry(dataDir, ['refuse', id, '--token', coordinator()]);
    expect(noReasons.status).toBe(2);
    expect(noReasons.out).toMatch(/^registry: refuse needs --reasons/);
    const refused = await registry(dataDir, ['refuse', id, '--reasons', '与 tax-invoices 重复', '--token', coordinator()]);
    expect(refused.status).toBe(0);
    expect(refused.out).toContain(`refused ${id} (subgraph tax-extra of tax): 与 tax-invoices 重复`);

    const rolled = await registry(dataDir, ['rollback', '1', '--reasons', '回退', '--token', coordinator()]);
    expect(rolled.status).toBe(0);
    expect(rolled.out).toMatch(/rolled back: version 3 republishes version 1/);
    const r = await ex.query('{ supergraphVersions { version hash rollbackOf } }');
    const [v1, , v3] = r.body.data?.['supergraphVersions'] as { version: number; hash: string; rollbackOf: number | null }[];
    expect(v3).toEqual({ version: 3, hash: v1!.hash, rollbackOf: 1 });
  });

  it.each([
    [['check', '--subgraph', 'x', '--url', 'http://x', '--token', 'x'], /^registry: check needs --schema/],
    [['approve', '--reasons', 'x', '--token', 'x'], /^registry: approve needs the proposal id/],
    [['rollback', 'two', '--reasons', 'x', '--token', 'x'], /^registry: rollback needs the version to republish, a positive whole number, got "two"/],
    [['list', '--verbose'], /^registry: Unknown option '--verbose'/],
    [['publish'], /^registry: unknown command "publish"/],
    [['check', '--subgraph', 'x', '--url', 'http://x', '--schema', '/nonexistent.graphql', '--token', 'x'], /^registry: cannot read --schema \/nonexistent\.graphql: ENOENT/],
  ])('refuses bad usage %j with one clear line and exit 2', async (args, message) => {
    const r = await registry(dataDir, args);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(message);
  });

  it('refuses a token that does not verify, and a bad URL naming it, with exit 1', async () => {
    const forged = await registry(dataDir, ['check', ...proposal(), '--token', `${tax()}x`]);
    expect(forged.status).toBe(1);
    expect(forged.out).toMatch(/^registry: --token refused: /);
    const ftp = await registry(dataDir, ['propose', '--subgraph', 'tax-invoices', '--url', 'ftp://tax.example/graphql', '--schema', schema, '--token', tax()]);
    expect(ftp.status).toBe(1);
    expect(ftp.out).toContain('registry: refused (BAD_USER_INPUT): url must be an http or https URL, got scheme "ftp"');
  });
});
