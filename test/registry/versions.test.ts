import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../ledger/ledger.ts';
import type { RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { postGraphQL, ROOT, startExchange, type Exchange } from '../helpers/exchange.ts';
import { authorityLedger, composeWithStamp, hashOf, healthOf, publish, servedVersion, startGatedStamp, startStamp, untilServed, type GatedStamp } from '../helpers/supergraph-versions.ts';
import { until } from '../helpers/wait.ts';

const USCC = '91445202MA4W3K7PX2';
const STAMPED = `{ enterprise(uscc: "${USCC}") { name stamp stampTwo } }`;

/** The fields of Enterprise with their descriptions, as introspection shows them. */
async function enterpriseFields(ex: Exchange): Promise<Map<string, string>> {
  const res = await ex.query('{ __type(name: "Enterprise") { fields { name description } } }');
  const fields = (res.body.data?.['__type'] as { fields: { name: string; description: string | null }[] }).fields;
  return new Map(fields.map((f) => [f.name, f.description ?? '']));
}

describe('supergraph versions on one gateway (file storage)', () => {
  let ex: Exchange;
  let ledger: Ledger;
  let stamp: RunningSubgraph;
  let tmp: string;
  beforeAll(async () => {
    // A supergraph file that is not the reference composition: the exchange records no version 1
    // on its first start, so the gateway starts on the file and the test publishes every version.
    tmp = mkdtempSync(path.join(tmpdir(), 'versions-test-'));
    const supergraph = path.join(tmp, 'supergraph.graphql');
    writeFileSync(supergraph, `${readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8')}\n# an operator's own composition\n`);
    ex = await startExchange({ env: { SUPERGRAPH_PATH: supergraph } });
    ledger = await authorityLedger(ex.config);
    stamp = await startStamp(ex.config, 'one', true);
  });
  afterAll(async () => {
    await stamp.close();
    await ledger.close();
    await ex.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves the file at SUPERGRAPH_PATH while no version is published, and says so', async () => {
    expect(await servedVersion(ex.url, ex.token)).toBe('file');
    const health = await healthOf(ex.url, ex.token);
    expect(health['supergraph']).toMatchObject({ version: null, source: 'file', newestRefused: null });
  });

  it('serves a published version without a restart: its new subgraph is fetched, its fields decided by their dataset and described', async () => {
    await publish(ledger, 1, composeWithStamp(stamp.url, true));
    await untilServed(ex.url, ex.token, '1');
    const res = await ex.query(STAMPED, { agency: 'hrss' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.['enterprise']).toMatchObject({ stamp: 'one', stampTwo: 'one-two' });
    expect(res.headers.get('x-supergraph-version')).toBe('1');
    const may = await ex.query('{ mayRead(coordinate: "Enterprise.stampTwo") { decision reason } }', { agency: 'hrss' });
    expect(may.body.data?.['mayRead']).toEqual({ decision: 'ALLOW', reason: 'UNCONDITIONAL' });
    expect((await enterpriseFields(ex)).get('stampTwo')).toContain('tax.stamps');
    expect((await healthOf(ex.url, ex.token))['supergraph']).toMatchObject({ version: 1, source: 'ledger', hash: hashOf(composeWithStamp(stamp.url, true)) });
    // /health probes the subgraphs of the version served (its last probe is reused for 2 s).
    await until(async () => Object.hasOwn((await healthOf(ex.url, ex.token))['subgraphs'] as object, 'stamp'), '/health to probe the stamp subgraph');
  });

  it('drops a field with the version that drops it: the same operation text that ran before is refused', async () => {
    // Run it twice first, so the text is a known operation of version 1.
    for (let i = 0; i < 2; i++) expect((await ex.query(STAMPED)).body.errors).toBeUndefined();
    await publish(ledger, 2, composeWithStamp(stamp.url, false));
    await untilServed(ex.url, ex.token, '2');
    const res = await ex.query(STAMPED);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.headers.get('x-supergraph-version')).toBe('2');
    expect([...(await enterpriseFields(ex)).keys()]).not.toContain('stampTwo');
    const may = await ex.query('{ mayRead(coordinate: "Enterprise.stampTwo") { decision } }');
    expect(may.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('keeps serving its version when a published one does not load, says so on /health, and takes the next good one', async () => {
    const good = composeWithStamp(stamp.url, true);
    // A hash that is not its SDL's, then an SDL that is no supergraph.
    await publish(ledger, 3, good, { hash: hashOf('something else') });
    await until(async () => ((await healthOf(ex.url, ex.token))['supergraph'] as { newestRefused: { version: number } | null }).newestRefused?.version === 3, 'version 3 to be refused');
    await publish(ledger, 4, 'type Query { broken');
    await until(async () => ((await healthOf(ex.url, ex.token))['supergraph'] as { newestRefused: { version: number } | null }).newestRefused?.version === 4, 'version 4 to be refused');
    // A catalog that gives one dataset two classes.
    const stampClass = '@dataset(id: "tax.stamps", class: "UNCONDITIONAL")';
    const at = good.lastIndexOf(stampClass);
    await publish(ledger, 5, `${good.slice(0, at)}@dataset(id: "tax.stamps", class: "CONDITIONAL")${good.slice(at + stampClass.length)}`);
    await until(async () => ((await healthOf(ex.url, ex.token))['supergraph'] as { newestRefused: { version: number } | null }).newestRefused?.version === 5, 'version 5 to be refused');
    const health = await healthOf(ex.url, ex.token);
    expect(health['supergraph']).toMatchObject({ version: 2, newestRefused: { version: 5, reason: expect.stringContaining('tax.stamps') } });
    expect(JSON.stringify(health['supergraph'])).not.toMatch(/\/work|\.ts\b/);
    const still = await ex.query('{ enterprise(uscc: "91445202MA4W3K7PX2") { name stamp } }');
    expect(still.body.errors).toBeUndefined();
    expect(still.headers.get('x-supergraph-version')).toBe('2');
    expect(ex.logLines.some((l) => l.startsWith('warn supergraph version 4 refused, still serving version 2'))).toBe(true);

    await publish(ledger, 6, composeWithStamp(stamp.url, true), { rollbackOf: 1 });
    await untilServed(ex.url, ex.token, '6');
    expect((await healthOf(ex.url, ex.token))['supergraph']).toMatchObject({ version: 6, rollbackOf: 1, newestRefused: null });
    expect((await ex.query(STAMPED)).body.data?.['enterprise']).toMatchObject({ stampTwo: 'one-two' });
  });

  it('starts a new gateway on the newest published version, not the file', async () => {
    const gw = await ex.startAnotherGateway({ INSTANCE_ID: 'second-gateway' });
    const res = await postGraphQL(gw.url, STAMPED, { agency: 'tax' }, ex.token);
    expect(res.headers.get('x-supergraph-version')).toBe('6');
    expect(res.body.data?.['enterprise']).toMatchObject({ stamp: 'one' });
  });
});

const COND_STAMP = '  condStamp: String @dataset(id: "tax.cond-stamps", class: "CONDITIONAL")\n';

describe('the sharing policy follows supergraph versions', () => {
  let ex: Exchange;
  let ledger: Ledger;
  let stamp: RunningSubgraph;
  beforeAll(async () => {
    ex = await startExchange({ copyPolicies: true });
    // Standing grants for datasets no version has yet: ignored until one does.
    const lines = [
      'p2, g-test-cond-stamps, hrss, tax.cond-stamps, social-insurance-administration, 2026-01-01, 2099-01-01, test basis',
      'p2, g-test-secret-stamps, hrss, tax.secret-stamps, social-insurance-administration, 2026-01-01, 2099-01-01, test basis',
    ];
    appendFileSync(path.join(ex.config.policyDir, 'grants.csv'), `${lines.join('\n')}\n`);
    ledger = await authorityLedger(ex.config);
    stamp = await startStamp(ex.config, 'one', false, 0, COND_STAMP);
    await untilServed(ex.url, ex.token, '1');
  });
  afterAll(async () => {
    await stamp.close();
    await ledger.close();
    await ex.close();
  });

  it('decides a field a new version adds by its dataset, with the policy lines that name that dataset', async () => {
    await publish(ledger, 2, composeWithStamp(stamp.url, false, COND_STAMP));
    await untilServed(ex.url, ex.token, '2');
    const query = `{ enterprise(uscc: "${USCC}") { condStamp } }`;
    // hrss holds the standing grant for the purpose; amr holds none.
    const granted = await ex.query(query, { agency: 'hrss', purpose: 'social-insurance-administration' });
    expect(granted.body.errors).toBeUndefined();
    expect(granted.body.data?.['enterprise']).toEqual({ condStamp: 'one-conditional' });
    const refused = await ex.query(query, { agency: 'amr', purpose: 'market-supervision' });
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(refused.body.errors?.[0]?.extensions?.['sharing']).toMatchObject({ coordinate: 'Enterprise.condStamp', dataset: 'tax.cond-stamps', reason: 'GRANT_REQUIRED' });
  });

  it('refuses a version the policy cannot run on (a grant line would open one of its NOT_SHARED datasets) and keeps serving its own', async () => {
    await publish(ledger, 3, composeWithStamp(stamp.url, false, `${COND_STAMP}  secretStamp: String @dataset(id: "tax.secret-stamps", class: "NOT_SHARED")\n`));
    await until(async () => ((await healthOf(ex.url, ex.token))['supergraph'] as { newestRefused: { version: number } | null }).newestRefused?.version === 3, 'version 3 to be refused');
    expect((await healthOf(ex.url, ex.token))['supergraph']).toMatchObject({ version: 2, newestRefused: { version: 3, reason: expect.stringContaining('NOT_SHARED') } });
    const still = await ex.query(`{ enterprise(uscc: "${USCC}") { condStamp } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    expect(still.headers.get('x-supergraph-version')).toBe('2');
    expect(still.body.data?.['enterprise']).toEqual({ condStamp: 'one-conditional' });
  });
});

describe('a request in flight when a new supergraph version loads', () => {
  let ex: Exchange;
  let ledger: Ledger;
  let stamp: GatedStamp;
  beforeAll(async () => {
    ex = await startExchange();
    ledger = await authorityLedger(ex.config);
    stamp = await startGatedStamp(ex.config, 'gated', true);
    await publish(ledger, 2, composeWithStamp(stamp.url, true));
    await untilServed(ex.url, ex.token, '2');
  });
  afterAll(async () => {
    stamp.open();
    await stamp.stop();
    await ledger.close();
    await ex.close();
  });

  it('finishes on the version it started on, denials included, even when the new version drops a field it reads', async () => {
    // taxCreditGrade is conditional: read without a purpose it is denied, so the answer is not clean data.
    const known = `{ enterprise(uscc: "${USCC}") { stamp stampTwo taxCreditGrade } }`;
    const fresh = `{ e: enterprise(uscc: "${USCC}") { stamp stampTwo taxCreditGrade } }`;
    const expectOnVersion2 = (res: Awaited<ReturnType<Exchange['query']>>, key: string): void => {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-supergraph-version')).toBe('2');
      expect(res.body.data?.[key]).toEqual({ stamp: 'gated', stampTwo: 'gated-two', taxCreditGrade: null });
      expect(res.body.errors?.map((e) => [e.extensions?.['code'], (e.extensions?.['sharing'] as { reason?: string } | undefined)?.reason])).toEqual([['FORBIDDEN', 'PURPOSE_REQUIRED']]);
      expect(res.body.errors?.[0]?.extensions?.['requestId']).toEqual(expect.any(String));
    };
    // Twice: the text is then a known operation of version 2 (the direct path).
    for (let i = 0; i < 2; i++) expectOnVersion2(await ex.query(known, { agency: 'hrss' }), 'enterprise');

    stamp.close();
    const inFlight = [ex.query(known, { agency: 'hrss' }), ex.query(fresh, { agency: 'hrss' })];
    await until(() => stamp.waiting() === 2, 'both requests to reach the stamp subgraph');
    await publish(ledger, 3, composeWithStamp(stamp.url, false));
    await until(async () => (await ex.query('{ __typename }')).headers.get('x-supergraph-version') === '3', 'version 3 to be served');
    stamp.open();
    const [direct, throughApollo] = await Promise.all(inFlight);
    expectOnVersion2(direct!, 'enterprise');
    expectOnVersion2(throughApollo!, 'e');
    // Sent now, the same text is refused: version 3 has no stampTwo.
    expect((await ex.query(known, { agency: 'hrss' })).body.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
