import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';
import { INVOICES } from '../registry/proposal.ts';

const COORDINATOR = { agency: 'itd', roles: ['coordinator'] };
const CATALOG = '{ catalog(search: "Invoices issued", first: 100) { items { id provider class purposes coordinates } } }';
const HISTORY = '{ catalogChanges { supergraphVersion approvedBy reasons changes { dataset change } } }';
const FILE = 'mutation { fileSharingRequest(provider: "tax", datasets: ["tax.invoices"], purposes: ["market-supervision"], legalBasis: "《市场主体登记管理条例》第五条", justification: "市场监管需要", validUntil: "2030-12-31") { status } }';

type History = { supergraphVersion: number | null; approvedBy: string | null; reasons: string | null; changes: { dataset: string; change: string }[] }[];

function data<T>(r: GraphQLResponse, field: string): T {
  if (r.body.errors !== undefined) throw new Error(`${field}: ${JSON.stringify(r.body.errors)}`);
  return r.body.data![field] as T;
}

describe('the catalog follows an approved proposal and a rollback (R-6)', () => {
  let ex: Exchange;
  const invoices = async () => data<{ items: { id: string }[] }>(await ex.query(CATALOG, { agency: 'amr' }), 'catalog').items;
  const history = async () => data<History>(await ex.query(HISTORY, { agency: 'amr' }), 'catalogChanges');
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('catalogs the dataset of an approved proposal at once, with its history entry, and lets it be requested', async () => {
    expect(await invoices()).toEqual([]);
    const before = (await history()).length;
    const proposed = data<{ id: string }>(await ex.query('mutation($i: SubgraphProposalInput!) { proposeSubgraph(input: $i) { id } }', { agency: 'tax', variables: { i: INVOICES } }), 'proposeSubgraph');
    expect(data<{ version: number }>(await ex.query(`mutation { approveProposal(id: "${proposed.id}", reasons: "市场监管需要") { version } }`, COORDINATOR), 'approveProposal').version).toBe(2);

    expect(await invoices()).toEqual([{ id: 'tax.invoices', provider: 'tax', class: 'CONDITIONAL', purposes: ['market-supervision'], coordinates: ['Enterprise.invoiceCount'] }]);
    const entries = await history();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)).toEqual({ supergraphVersion: 2, approvedBy: 'itd-tester', reasons: '市场监管需要', changes: [{ dataset: 'tax.invoices', change: 'ADDED' }] });
    expect(data<{ status: string }>(await ex.query(FILE, { agency: 'amr' }), 'fileSharingRequest').status).toBe('PENDING');
  });

  it('takes the dataset out of the catalog again when the authority rolls back to version 1', async () => {
    expect(data<{ version: number }>(await ex.query('mutation { rollbackSupergraph(version: 1, reasons: "发票子图故障，回退") { version } }', COORDINATOR), 'rollbackSupergraph').version).toBe(3);
    expect(await answerWhen(invoices, (items) => items.length === 0)).toEqual([]);
    expect((await history()).at(-1)).toEqual({ supergraphVersion: 3, approvedBy: 'itd-tester', reasons: '发票子图故障，回退', changes: [{ dataset: 'tax.invoices', change: 'REMOVED' }] });
    const refused = await ex.query(FILE, { agency: 'amr' });
    expect(refused.body.errors?.[0]).toMatchObject({ message: expect.stringContaining('unknown dataset "tax.invoices": no catalogued dataset has this id') as unknown, extensions: { code: 'BAD_USER_INPUT', argument: 'datasets' } });
  });
});
