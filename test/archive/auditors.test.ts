import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cstDate } from '../../common/cst-date.ts';
import { filterRecords } from '../../ledger/audit-filter.ts';
import { UsageCounts } from '../../subgraphs/exchange/oversight/usage.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase, type TestDatabase } from './database.ts';

const ENT = '91445202MA4W3K7PX2';
const PERSON = '445202198503151238';
let db: TestDatabase;
let ex: Exchange;

async function archived(): Promise<number> {
  try {
    return Number((await db.pool().query<{ n: string }>('SELECT count(*) AS n FROM access_records')).rows[0]!.n);
  } catch {
    return 0; // the tables are not there yet
  }
}

/** Every record written so far is in the archive (the shipper runs beside the gateway). */
async function caughtUp(): Promise<void> {
  const logged = (await fileAuditRecords(ex.config.dataDir)).length;
  await until(async () => (await archived()) >= logged, 'the archive caught up with the log');
}

beforeAll(async () => {
  db = await createDatabase();
  ex = await startExchange({ env: { ARCHIVE_URL: db.url() } });
  await ex.query(`{ enterprise(uscc: "${ENT}") { name annualTaxPaid(year: 2024) } }`, { agency: 'amr' });
  await ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' });
  const person = await ex.query(`{ person(idNumber: "${PERSON}") { name maritalStatus } }`, { agency: 'amr' });
  expect(person.status).toBe(200);
  await caughtUp();
}, 120_000);

afterAll(async () => {
  await ex.close();
  await db.drop();
});

describe('auditors through GraphQL when the access log is archived', () => {
  it('gives an itd auditor the same history of an entity key as the log holds', async () => {
    const logged = filterRecords(await fileAuditRecords(ex.config.dataDir), { entityKey: ENT }, { first: 200 }).records;
    const res = await ex.query('query($k: String!) { accessHistory(entityKey: $k) { requestId agency coordinate decision reason } }', { agency: 'itd', roles: ['auditor'], variables: { k: ENT } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!['accessHistory']).toEqual(logged.map((r) => ({ requestId: r.requestId, agency: r.agency, coordinate: r.coordinate, decision: r.decision, reason: r.reason })));
    expect(logged.length).toBeGreaterThan(3);
  });

  it('gives an auditor of psb only the records where psb is the consumer or the provider, whatever the filter asks', async () => {
    const res = await ex.query('{ auditRecords(filter: { agency: "amr" }, first: 100) { records { agency provider coordinate } } }', { agency: 'psb', roles: ['auditor'] });
    expect(res.body.errors).toBeUndefined();
    const records = (res.body.data!['auditRecords'] as { records: { agency: string; provider: string | null; coordinate: string }[] }).records;
    const logged = filterRecords(await fileAuditRecords(ex.config.dataDir), { agency: 'amr', party: 'psb' }, { first: 100 }).records;
    expect(records).toEqual(logged.map((r) => ({ agency: r.agency, provider: r.provider, coordinate: r.coordinate })));
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.provider === 'psb')).toBe(true);
  });

  it("answers the authority's usage statistics from the archive with the figures of the log", async () => {
    const span = { f: cstDate(new Date(Date.now() - 86_400_000)), t: cstDate(new Date(Date.now() + 86_400_000)) };
    const groupBy = ['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE'] as const;
    // The earlier tests' own reads (psb's among them) are in the log at once, in the archive within a second.
    await caughtUp();
    const counts = new UsageCounts();
    for (const r of await fileAuditRecords(ex.config.dataDir)) counts.add(r);
    // The statistics question is itself a read by itd, archived or not by the time it is answered: left out on both sides.
    const expected = counts.rows({ from: span.f, to: span.t, groupBy, agency: null }).filter((r) => r.consumer !== 'itd');
    const res = await ex.query('query($f: String!, $t: String!, $g: [UsageDimension!]!) { usageStatistics(from: $f, to: $t, groupBy: $g) { provider consumer dataset purpose quarter allowed denied } }', { agency: 'itd', roles: ['coordinator'], variables: { ...span, g: groupBy } });
    expect(res.body.errors).toBeUndefined();
    expect((res.body.data!['usageStatistics'] as { consumer: string }[]).filter((r) => r.consumer !== 'itd')).toEqual(expected);
    expect(expected.map((r) => r.consumer)).toEqual(expect.arrayContaining(['amr', 'tax']));
  });

  it('refuses the access log to a caller without role auditor, as without the archive', async () => {
    const res = await ex.query('{ auditRecords(first: 5) { records { agency } } }', { agency: 'itd' });
    expect(res.body.data?.['auditRecords'] ?? null).toBeNull();
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});
