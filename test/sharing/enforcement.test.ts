import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { ROOT } from '../helpers/root.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';

const ENT = '91445202MA4W3K7PX2';
const PERSON = '445202198503151238';

function sharing(res: GraphQLResponse, coordinate: string): Record<string, unknown> | undefined {
  return res.body.errors?.find((e) => (e.extensions?.['sharing'] as { coordinate?: string } | undefined)?.coordinate === coordinate)?.extensions?.['sharing'] as
    | Record<string, unknown>
    | undefined;
}

describe('sharing decisions through the gateway', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
  });
  afterAll(async () => {
    await ex.close();
  });
  beforeEach(() => {
    for (const s of ex.spies.values()) s.requests.length = 0;
  });
  const sent = (subgraph: string): string => ex.spies.get(subgraph)!.requests.map((r) => r.query).join('\n');

  it('denies Enterprise.annualTaxPaid to amr with reason NOT_SHARED, answers the rest, and never asks tax for it', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { name annualTaxPaid(year: 2024) } }`, { agency: 'amr', purpose: 'market-supervision' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ enterprise: { name: expect.any(String), annualTaxPaid: null } });
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors?.[0]).toMatchObject({ path: ['enterprise', 'annualTaxPaid'], extensions: { code: 'FORBIDDEN' } });
    expect(sharing(res, 'Enterprise.annualTaxPaid')).toEqual({
      coordinate: 'Enterprise.annualTaxPaid',
      dataset: 'tax.tax-payments',
      provider: 'tax',
      class: 'NOT_SHARED',
      reason: 'NOT_SHARED',
      remedy: expect.stringContaining('not shared'),
    });
    expect(sent('tax')).not.toContain('annualTaxPaid');
  });

  it('lets tax, the provider, read its own NOT_SHARED data', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { annualTaxPaid(year: 2024) } }`, { agency: 'tax' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ enterprise: { annualTaxPaid: expect.any(Number) } });
  });

  it('denies conditional data without x-purpose with reason PURPOSE_REQUIRED', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax' });
    expect(sharing(res, 'Enterprise.insuredEmployees')).toMatchObject({ reason: 'PURPOSE_REQUIRED', class: 'CONDITIONAL', provider: 'hrss' });
  });

  it('denies Enterprise.emissions to tax with reason GRANT_REQUIRED and a remedy naming eeb', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { emissions(year: 2024) { cod } } }`, { agency: 'tax', purpose: 'tax-collection' });
    expect(res.body.data).toEqual({ enterprise: { emissions: null } });
    expect(sharing(res, 'Enterprise.emissions')).toMatchObject({ reason: 'GRANT_REQUIRED', dataset: 'eeb.enterprise-emissions', remedy: expect.stringContaining('File a sharing request to eeb') });
    expect(sent('eeb')).not.toContain('emissions');
  });

  it('denies Enterprise.insuredEmployees to tax for another purpose with reason PURPOSE_MISMATCH', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'statistics' });
    expect(sharing(res, 'Enterprise.insuredEmployees')).toMatchObject({ reason: 'PURPOSE_MISMATCH' });
  });

  it('allows Enterprise.insuredEmployees to tax for tax-collection through the reference grant', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ enterprise: { insuredEmployees: expect.any(Number) } });
  });

  it('allows Person.name to hrss under the grant and the hrss–psb agreement', async () => {
    const res = await ex.query(`{ person(idNumber: "${PERSON}") { name birthDate } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ person: { name: expect.any(String), birthDate: '1985-03-15' } });
  });

  it('always lets any agency read the person index and key fields', async () => {
    const res = await ex.query(`{ person(idNumber: "${PERSON}") { idNumber __typename } }`, { agency: 'civil' });
    expect(res.body).toEqual({ data: { person: { idNumber: PERSON, __typename: 'Person' } } });
  });

  it('an alias does not smuggle a denied field through', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { name paid: annualTaxPaid(year: 2024) } }`, { agency: 'eeb' });
    expect(res.body.data).toEqual({ enterprise: { name: expect.any(String), paid: null } });
    expect(res.body.errors?.[0]).toMatchObject({ path: ['enterprise', 'paid'] });
    expect(sent('tax')).not.toContain('annualTaxPaid');
  });

  it('a named fragment or an inline fragment does not smuggle a denied field through', async () => {
    const res = await ex.query(
      `query Q { enterprise(uscc: "${ENT}") { ...Tax ... on Enterprise { again: annualTaxPaid(year: 2023) name } } }
       fragment Tax on Enterprise { taxpayerStatus annualTaxPaid(year: 2024) }`,
      { agency: 'eeb' },
    );
    expect(res.body.data?.['enterprise']).toEqual({ taxpayerStatus: expect.any(String), annualTaxPaid: null, again: null, name: expect.any(String) });
    expect(res.body.errors).toHaveLength(2);
    expect(sent('tax')).not.toContain('annualTaxPaid');
    expect(sent('tax')).toContain('taxpayerStatus');
  });

  it('a denied field in a list gets null in every element and one error with the first path', async () => {
    const res = await ex.query('{ enterprises(uscc: ["91445202MA4W3K7PX2", "91445202315608740C"]) { name taxCreditGrade } }', { agency: 'eeb', purpose: 'environmental-enforcement' });
    expect(res.body.data?.['enterprises']).toEqual([
      { name: expect.any(String), taxCreditGrade: null },
      { name: expect.any(String), taxCreditGrade: null },
    ]);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors?.[0]?.path).toEqual(['enterprises', 0, 'taxCreditGrade']);
  });

  it('a variable used only by a denied field is not sent to the subgraph', async () => {
    const res = await ex.query(`query($y: Int!) { enterprise(uscc: "${ENT}") { name annualTaxPaid(year: $y) } }`, { agency: 'amr', variables: { y: 2024 } });
    expect(res.status).toBe(200);
    expect(ex.spies.get('tax')!.requests).toHaveLength(0);
  });

  it('a query whose every field is denied is answered without any subgraph request', async () => {
    const res = await ex.query(`{ person(idNumber: "${PERSON}") { criminalRecord { hasRecord } } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    expect(res.body.data).toEqual({ person: { criminalRecord: null } });
    expect(sharing(res, 'Person.criminalRecord')).toMatchObject({ reason: 'NOT_SHARED', provider: 'psb' });
    expect(ex.spies.get('psb')!.requests).toHaveLength(0);
  });

  it('introspection shows the schema to any agency', async () => {
    const res = await ex.query('{ __type(name: "Enterprise") { fields { name } } }', { agency: 'civil' });
    expect(res.body.errors).toBeUndefined();
    const names = ((res.body.data?.['__type'] as { fields: { name: string }[] }).fields).map((f) => f.name);
    expect(names).toContain('annualTaxPaid');
  });

  it('refuses an unknown x-purpose as BAD_USER_INPUT before anything runs', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'tax', purpose: 'curiosity' });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'x-purpose' });
    expect([...ex.spies.values()].every((s) => s.requests.length === 0)).toBe(true);
  });

  it('carries no R-25 notice when the caller reads only its own data', async () => {
    const own = await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' });
    expect(own.body.extensions).toBeUndefined();
    const other = await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'tax' });
    expect(other.body.extensions?.['sharing']).toMatchObject({ notice: expect.stringContaining('consent') });
  });

  it('gives each caller exactly its own fields for the same query, in either order (no shared trimmed plan)', async () => {
    const q = `{ enterprise(uscc: "${ENT}") { name taxCreditGrade insuredEmployees } }`;
    for (const order of [['amr', 'tax'], ['tax', 'amr']] as const) {
      for (const agency of order) {
        const purpose = agency === 'amr' ? 'market-supervision' : 'tax-collection';
        const res = await ex.query(q, { agency, purpose });
        const e = res.body.data?.['enterprise'] as Record<string, unknown>;
        if (agency === 'amr') {
          // amr: credit rating through its grant, insured employees not granted.
          expect(e['taxCreditGrade']).not.toBeNull();
          expect(e['insuredEmployees']).toBeNull();
          expect(sharing(res, 'Enterprise.insuredEmployees')).toMatchObject({ reason: 'GRANT_REQUIRED' });
        } else {
          expect(e['taxCreditGrade']).not.toBeNull();
          expect(e['insuredEmployees']).not.toBeNull();
          expect(res.body.errors).toBeUndefined();
        }
      }
    }
  });

});

describe('a supergraph with a field nobody catalogued', () => {
  let ex: Exchange;
  let dir: string;
  beforeAll(async () => {
    const subgraphs = referenceSubgraphs(ROOT).map((s) =>
      s.name === 'civil' ? { ...s, sdl: s.sdl.replace('idNumber: IDNumber!', 'idNumber: IDNumber!\n  nickname: String') } : s,
    );
    const composed = compose(subgraphs);
    if (!composed.ok) throw new Error(composed.errors.join('; '));
    dir = mkdtempSync(path.join(tmpdir(), 'exchange-uncat-'));
    writeFileSync(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
    ex = await startExchange({ spy: true, env: { SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql') } });
  });
  afterAll(async () => {
    await ex.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('denies Person.nickname with NOT_CATALOGUED even to civil, and never sends it', async () => {
    const res = await ex.query(`{ person(idNumber: "${PERSON}") { maritalStatus nickname } }`, { agency: 'civil' });
    expect(res.body.data).toEqual({ person: { maritalStatus: expect.any(String), nickname: null } });
    expect(sharing(res, 'Person.nickname')).toMatchObject({ reason: 'NOT_CATALOGUED', dataset: null, provider: null, remedy: expect.stringContaining('demand register') });
    expect(ex.spies.get('civil')!.requests.map((r) => r.query).join('')).not.toContain('nickname');
  });
});

describe('policy hot reload through the gateway', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ copyPolicies: true });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('a grant line saved to a policy file opens the field once the gateway reloads, and a broken file changes nothing', async () => {
    const q = `{ enterprise(uscc: "${ENT}") { emissions(year: 2024) { cod } } }`;
    const ask = () => ex.query(q, { agency: 'tax', purpose: 'statistics' });
    expect(sharing(await ask(), 'Enterprise.emissions')).toMatchObject({ reason: 'GRANT_REQUIRED' });
    writeFileSync(path.join(ex.config.policyDir, 'local.csv'), 'p2, g-local-1, tax, eeb.enterprise-emissions, statistics, 2026-01-01, 2030-01-01, a regulation\n');
    expect((await answerWhen(ask, (r) => r.body.errors === undefined)).body.errors).toBeUndefined();
    const logged = ex.logLines.length;
    writeFileSync(path.join(ex.config.policyDir, 'local.csv'), 'p2, g-local-1, tax, eeb.enterprise-emissions\n');
    // The gateway says it refused the broken file; the grant it had stays in force.
    const refusal = /refused, keeping the last good policy: .*local\.csv:1: a grant line has 8 fields/;
    const deadline = Date.now() + 5000;
    while (!ex.logLines.slice(logged).some((l) => refusal.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ex.logLines.slice(logged).join('\n')).toMatch(refusal);
    expect((await ask()).body.errors).toBeUndefined();
    rmSync(path.join(ex.config.policyDir, 'local.csv'));
  });

  it('a suspension line denies a granted read with SUSPENDED, and lifting it restores the read', async () => {
    const ask = () => ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'tax', purpose: 'tax-collection' });
    expect((await ask()).body.errors).toBeUndefined();
    writeFileSync(path.join(ex.config.policyDir, 'suspensions.csv'), 's, tax, hrss.enterprise-insurance, 2026-01-01T00:00:00Z, 2099-01-01T00:00:00Z, case v-1\n');
    const res = await answerWhen(ask, (r) => r.body.errors !== undefined);
    expect(sharing(res, 'Enterprise.insuredEmployees')).toMatchObject({ reason: 'SUSPENDED', remedy: expect.stringContaining('suspended') });
    writeFileSync(path.join(ex.config.policyDir, 'suspensions.csv'), '# none\n');
    expect((await answerWhen(ask, (r) => r.body.errors === undefined)).body.errors).toBeUndefined();
  });

  it('denies with GRANT_EXPIRED once the grant ended, and AGREEMENT_REQUIRED once the agreement is gone', async () => {
    const grants = path.join(ex.config.policyDir, 'grants.csv');
    const agreements = path.join(ex.config.policyDir, 'agreements.csv');
    const shippedGrants = readFileSync(grants, 'utf8');
    const shippedAgreements = readFileSync(agreements, 'utf8');
    const ask = () => ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'amr', purpose: 'market-supervision' });
    writeFileSync(grants, shippedGrants.replace('g-ref-amr-tax-1, amr, tax.credit-rating, market-supervision, 2026-01-01, 2028-01-01', 'g-ref-amr-tax-1, amr, tax.credit-rating, market-supervision, 2020-01-01, 2021-01-01'));
    expect(sharing(await answerWhen(ask, (r) => r.body.errors !== undefined), 'Enterprise.taxCreditGrade')).toMatchObject({ reason: 'GRANT_EXPIRED' });
    writeFileSync(grants, shippedGrants);
    writeFileSync(agreements, '# none\n');
    expect(sharing(await answerWhen(ask, (r) => sharing(r, 'Enterprise.taxCreditGrade')?.['reason'] === 'AGREEMENT_REQUIRED'), 'Enterprise.taxCreditGrade')).toMatchObject({ reason: 'AGREEMENT_REQUIRED' });
    writeFileSync(agreements, shippedAgreements);
    expect((await answerWhen(ask, (r) => r.body.errors === undefined)).body.errors).toBeUndefined();
  });

  it('with every matcher in model.conf set to false, every cross-agency read is denied once the gateway reloads', async () => {
    const modelFile = path.join(ex.config.policyDir, 'model.conf');
    const shipped = readFileSync(modelFile, 'utf8');
    const cross = () => ex.query(`{ enterprise(uscc: "${ENT}") { name legalRepresentative insuredEmployees dischargePermit { number } } }`, { agency: 'tax', purpose: 'tax-collection' });
    expect((await cross()).body.errors).toBeUndefined();
    writeFileSync(modelFile, shipped.slice(0, shipped.indexOf('[matchers]')) + '[matchers]\nm = false\n');
    // Nothing of amr's, hrss's, eeb's or the authority's index comes back, not even the entry point.
    const nothing = (r: GraphQLResponse): boolean => JSON.stringify(r.body.data ?? {}).match(/:(?!null)[^,{}]/) === null;
    const res = await answerWhen(cross, nothing);
    expect(nothing(res), JSON.stringify(res.body.data)).toBe(true);
    expect(res.body.errors?.every((e) => e.extensions?.['code'] === 'FORBIDDEN')).toBe(true);
    writeFileSync(modelFile, shipped);
    expect((await answerWhen(cross, (r) => r.body.errors === undefined)).body.errors).toBeUndefined();
  });
});
