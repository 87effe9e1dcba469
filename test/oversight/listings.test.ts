import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';

const FILE = `mutation File($p: String!, $d: [String!]!, $u: [String!]!) {
  fileSharingRequest(provider: $p, datasets: $d, purposes: $u, legalBasis: "《揭阳市企业基础信息共享试点》第三条", justification: "履职需要", validUntil: "2030-12-31") { id }
}`;
const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;

function code(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.['code'];
}

describe("the authority's listings of requests, grants and agreements", () => {
  let ex: Exchange;
  let eebRequest: string;
  let amrRequest: string;
  beforeAll(async () => {
    ex = await startExchange();
    const file = async (agency: string, p: string, d: string, u: string): Promise<string> => {
      const res = await ex.query(FILE, { agency, variables: { p, d: [d], u: [u] } });
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
      return (res.body.data?.['fileSharingRequest'] as { id: string }).id;
    };
    eebRequest = await file('eeb', 'tax', 'tax.credit-rating', 'environmental-enforcement');
    amrRequest = await file('amr', 'hrss', 'hrss.enterprise-insurance', 'statistics');
    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: 'tax', variables: { id: eebRequest } });
    expect(approved.body.errors).toBeUndefined();
    // An agreement in force: eeb proposes, tax countersigns.
    const proposed = await ex.query('mutation { proposeConfidentialityAgreement(counterparty: "tax", datasets: ["tax.credit-rating"], validUntil: "2028-01-01", documentRef: "揭环税保密〔2026〕1号") { id } }', { agency: 'eeb' });
    expect(proposed.body.errors).toBeUndefined();
    const id = (proposed.body.data?.['proposeConfidentialityAgreement'] as { id: string }).id;
    const agreed = await ex.query('mutation($id: ID!) { countersignConfidentialityAgreement(id: $id) { id } }', { agency: 'tax', variables: { id } });
    expect(agreed.body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('lists every sharing request for a coordinator of the authority with role ALL, filterable by agency, dataset and state', async () => {
    const all = await ex.query('{ sharingRequests(role: ALL) { id consumer provider status } }', COORDINATOR);
    expect(all.body.data?.['sharingRequests']).toEqual([
      { id: eebRequest, consumer: 'eeb', provider: 'tax', status: 'APPROVED' },
      { id: amrRequest, consumer: 'amr', provider: 'hrss', status: 'PENDING' },
    ]);
    const hrss = await ex.query('{ sharingRequests(role: ALL, agency: "hrss") { id } }', COORDINATOR);
    expect(hrss.body.data?.['sharingRequests']).toEqual([{ id: amrRequest }]);
    const rating = await ex.query('{ sharingRequests(role: ALL, dataset: "tax.credit-rating", status: APPROVED) { id } }', { agency: 'itd', roles: ['auditor'] });
    expect(rating.body.data?.['sharingRequests']).toEqual([{ id: eebRequest }]);
    const paged = await ex.query('query($a: ID) { sharingRequests(role: ALL, first: 1, after: $a) { id } }', { ...COORDINATOR, variables: { a: eebRequest } });
    expect(paged.body.data?.['sharingRequests']).toEqual([{ id: amrRequest }]);
  });

  it('denies role ALL to an agency outside the authority with FORBIDDEN', async () => {
    const res = await ex.query('{ sharingRequests(role: ALL) { id } }', { agency: 'tax' });
    expect(code(res)).toBe('FORBIDDEN');
    expect(res.body.errors?.[0]?.message).toMatch(/role CONSUMER or PROVIDER/);
    // A plain member of the authority is not a coordinator or auditor either.
    expect(code(await ex.query('{ sharingRequests(role: ALL) { id } }', { agency: 'itd' }))).toBe('FORBIDDEN');
  });

  it('lists grants: all for the authority, only its own for an agency, and FORBIDDEN for another agency\'s', async () => {
    const q = 'query($f: OversightFilter) { grants(filter: $f) { totalCount items { id consumer provider dataset state requestId } } }';
    const all = await ex.query(q, COORDINATOR);
    expect(all.body.data?.['grants']).toEqual({ totalCount: 1, items: [{ id: `g-${eebRequest}-1`, consumer: 'eeb', provider: 'tax', dataset: 'tax.credit-rating', state: 'ACTIVE', requestId: eebRequest }] });
    expect((await ex.query(q, { agency: 'tax' })).body.data?.['grants']).toMatchObject({ totalCount: 1 });
    expect((await ex.query(q, { agency: 'amr' })).body.data?.['grants']).toEqual({ totalCount: 0, items: [] });
    expect((await ex.query(q, { ...COORDINATOR, variables: { f: { state: 'REVOKED' } } })).body.data?.['grants']).toEqual({ totalCount: 0, items: [] });
    expect(code(await ex.query(q, { agency: 'amr', variables: { f: { agency: 'eeb' } } }))).toBe('FORBIDDEN');
  });

  it('lists agreements to their parties and the authority, paged', async () => {
    const q = 'query($f: OversightFilter, $n: Int) { agreements(filter: $f, first: $n) { totalCount next items { parties state } } }';
    expect((await ex.query(q, { ...COORDINATOR, variables: { n: 1 } })).body.data?.['agreements']).toEqual({ totalCount: 1, next: null, items: [{ parties: ['eeb', 'tax'], state: 'IN_FORCE' }] });
    expect((await ex.query(q, { agency: 'tax', variables: { f: { dataset: 'tax.credit-rating' } } })).body.data?.['agreements']).toMatchObject({ totalCount: 1 });
    expect((await ex.query(q, { agency: 'psb' })).body.data?.['agreements']).toMatchObject({ totalCount: 0 });
    const bad = await ex.query(q, { ...COORDINATOR, variables: { f: { since: 'yesterday' } } });
    expect(bad.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('filter.since') });
  });
});
