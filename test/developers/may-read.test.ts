import { cpSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.ts';
import { postGraphQL, startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

const ENT = '91445202MA4W3K7PX2';
const PERSON = '445202198503151238';
const MAY_READ = 'query MayRead($coordinate: String!, $purpose: String) { mayRead(coordinate: $coordinate, purpose: $purpose) { decision reason remedy } }';

interface Case {
  readonly reason: string;
  readonly agency: string;
  readonly purpose?: string;
  readonly coordinate: string;
  /** The actual read of the coordinate. */
  readonly read: string;
}

const enterprise = (selection: string): string => `{ enterprise(uscc: "${ENT}") { uscc ${selection} } }`;

const CASES: readonly Case[] = [
  { reason: 'NOT_SHARED', agency: 'amr', coordinate: 'Enterprise.annualTaxPaid', read: enterprise('annualTaxPaid(year: 2024)') },
  { reason: 'PURPOSE_REQUIRED', agency: 'tax', coordinate: 'Enterprise.insuredEmployees', read: enterprise('insuredEmployees') },
  { reason: 'GRANT_REQUIRED', agency: 'tax', purpose: 'tax-collection', coordinate: 'Enterprise.emissions', read: enterprise('emissions(year: 2024) { cod }') },
  { reason: 'PURPOSE_MISMATCH', agency: 'tax', purpose: 'statistics', coordinate: 'Enterprise.insuredEmployees', read: enterprise('insuredEmployees') },
  // Grants put in the authority's store by the test (below).
  { reason: 'GRANT_EXPIRED', agency: 'civil', purpose: 'civil-affairs', coordinate: 'Person.pensionInsurance', read: `{ person(idNumber: "${PERSON}") { idNumber pensionInsurance { status } } }` },
  { reason: 'AGREEMENT_REQUIRED', agency: 'eeb', purpose: 'environmental-enforcement', coordinate: 'Enterprise.taxCreditGrade', read: enterprise('taxCreditGrade') },
  { reason: 'GRANT', agency: 'tax', purpose: 'tax-collection', coordinate: 'Enterprise.insuredEmployees', read: enterprise('insuredEmployees') },
  { reason: 'PROVIDER', agency: 'tax', coordinate: 'Enterprise.annualTaxPaid', read: enterprise('annualTaxPaid(year: 2024)') },
  { reason: 'UNCONDITIONAL', agency: 'psb', coordinate: 'Enterprise.name', read: enterprise('name') },
  { reason: 'KEY_FIELD', agency: 'psb', coordinate: 'Enterprise.uscc', read: enterprise('') },
];

type Answer = { decision: string; reason: string; remedy: string | null };

/** What the actual read decided for the coordinate: the FORBIDDEN error's sharing, or an allow. */
function actualDecision(res: GraphQLResponse, coordinate: string): { decision: string; reason?: string; remedy?: string | null } {
  const denial = res.body.errors?.find((e) => (e.extensions?.['sharing'] as { coordinate?: string } | undefined)?.coordinate === coordinate);
  if (denial === undefined) return { decision: 'ALLOW' };
  const sharing = denial.extensions!['sharing'] as { reason: string; remedy: string | null };
  return { decision: 'DENY', reason: sharing.reason, remedy: sharing.remedy };
}

describe('Query.mayRead answers as an actual read decides', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
    const changed = new Promise<void>((resolve) => {
      let seen = 0;
      const off = ex.gateway.policy.onChange(() => {
        if (++seen === 2) {
          off();
          resolve();
        }
      });
    });
    await ex.gateway.policy.store.apply({ op: 'grant', grant: { id: 'g-test-civil-hrss', consumer: 'civil', dataset: 'hrss.pension-insurance', purposes: ['civil-affairs'], validFrom: '2024-01-01', validUntil: '2025-01-01' } });
    await ex.gateway.policy.store.apply({ op: 'grant', grant: { id: 'g-test-eeb-tax', consumer: 'eeb', dataset: 'tax.credit-rating', purposes: ['environmental-enforcement'], validFrom: '2026-01-01', validUntil: '2099-01-01' } });
    await changed;
  });
  afterAll(async () => {
    await ex.close();
  });

  it.each(CASES)('$reason: $agency reading $coordinate for $purpose', async (c) => {
    const asked = await ex.query(MAY_READ, { agency: c.agency, variables: { coordinate: c.coordinate, purpose: c.purpose ?? null } });
    expect(asked.status).toBe(200);
    const answer = (asked.body.data as { mayRead: Answer }).mayRead;
    const read = await ex.query(c.read, { agency: c.agency, ...(c.purpose ? { purpose: c.purpose } : {}) });
    const actual = actualDecision(read, c.coordinate);
    expect(answer.decision).toBe(actual.decision);
    if (actual.decision === 'DENY') expect(answer).toEqual({ decision: 'DENY', reason: actual.reason, remedy: actual.remedy });
    else expect(answer).toEqual({ decision: 'ALLOW', reason: c.reason, remedy: null });
    expect(answer.reason).toBe(c.reason);
  });

  it('answers for the request’s x-purpose when no purpose argument is given', async () => {
    const res = await ex.query('{ mayRead(coordinate: "Enterprise.insuredEmployees") { decision reason } }', { agency: 'tax', purpose: 'tax-collection' });
    expect(res.body.data).toEqual({ mayRead: { decision: 'ALLOW', reason: 'GRANT' } });
  });

  it('is answered by the gateway: no subgraph is asked, and other fields of the query are answered beside it in order', async () => {
    for (const spy of ex.spies.values()) spy.requests.length = 0;
    const res = await ex.query(`{ first: mayRead(coordinate: "Enterprise.emissions") { decision } enterprise(uscc: "${ENT}") { name } last: mayRead(coordinate: "Enterprise.name") { reason } }`, { agency: 'tax', purpose: 'tax-collection' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data!)).toEqual(['first', 'enterprise', 'last']);
    expect(res.body.data).toMatchObject({ first: { decision: 'DENY' }, enterprise: { name: expect.any(String) }, last: { reason: 'UNCONDITIONAL' } });
    const asked = [...ex.spies.values()].flatMap((s) => s.requests.map((r) => r.query));
    expect(asked.some((q) => q.includes('mayRead'))).toBe(false);
    expect(ex.spies.get('exchange')!.requests).toEqual([]);
  });

  it.each([
    ['coordinate', 'Enterprise.nope', undefined, 'names no field of Enterprise'],
    ['coordinate', 'taxCreditGrade', undefined, 'must be Type.field'],
    ['purpose', 'Enterprise.name', 'fishing', 'is not a purpose code'],
  ])('refuses a bad %s (%s) with 400 BAD_USER_INPUT naming it, and fetches nothing', async (argument, coordinate, purpose, message) => {
    for (const spy of ex.spies.values()) spy.requests.length = 0;
    const res = await ex.query(`query Q($c: String!, $p: String) { mayRead(coordinate: $c, purpose: $p) { decision } enterprise(uscc: "${ENT}") { name } }`, { agency: 'tax', variables: { c: coordinate, p: purpose ?? null } });
    expect(res.status).toBe(400);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0]).toMatchObject({ message: expect.stringContaining(message), extensions: { code: 'BAD_USER_INPUT', argument } });
    expect([...ex.spies.values()].every((s) => s.requests.length === 0)).toBe(true);
  });

  describe('on a supergraph with a field no dataset declares', () => {
    let tmp: string;
    let gw: RunningGateway;
    beforeAll(async () => {
      tmp = mkdtempSync(path.join(tmpdir(), 'exchange-mayread-'));
      const sdl = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8').replace(
        /(status: EnterpriseStatus @join__field\(graph: AMR\)) @dataset\([^)]*\)/,
        '$1',
      );
      writeFileSync(path.join(tmp, 'supergraph.graphql'), sdl);
      // A DATA_DIR of its own (with the exchange's keys): on the exchange's ledger version 1 is
      // published, and a gateway serves SUPERGRAPH_PATH only while no version is.
      cpSync(path.join(ex.config.dataDir, 'keys'), path.join(tmp, 'data', 'keys'), { recursive: true });
      gw = await ex.startAnotherGateway({ SUPERGRAPH_PATH: path.join(tmp, 'supergraph.graphql'), DATA_DIR: path.join(tmp, 'data'), INSTANCE_ID: 'uncatalogued-gateway' });
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('NOT_CATALOGUED: agrees with the read of the uncatalogued field', async () => {
      const asked = await postGraphQL(gw.url, MAY_READ, { agency: 'tax', variables: { coordinate: 'Enterprise.status' } }, ex.token);
      const read = await postGraphQL(gw.url, enterprise('status'), { agency: 'tax' }, ex.token);
      const actual = actualDecision(read, 'Enterprise.status');
      expect(actual.reason).toBe('NOT_CATALOGUED');
      expect((asked.body.data as { mayRead: Answer }).mayRead).toEqual({ decision: 'DENY', reason: actual.reason, remedy: actual.remedy });
    });
  });
});
