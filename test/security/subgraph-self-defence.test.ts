import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_IDENTITY_KEY_FILE } from '../../common/trust-keys.ts';
import { signIdentity, TRUST_HEADER } from '../../common/trust.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const PERSON = '445202198503151238';
const ENTERPRISE = '91445202MA4W3K7PX2';
const CRIMINAL_RECORD = `{ _entities(representations: [{ __typename: "Person", idNumber: "${PERSON}" }]) { ... on Person { criminalRecord { hasRecord convictions } } } }`;
const VIA_FRAGMENT = `query { _entities(representations: [{ __typename: "Person", idNumber: "${PERSON}" }]) { ...P } } fragment P on Person { name criminalRecord { hasRecord } }`;
const TAX_PAID = `{ _entities(representations: [{ __typename: "Enterprise", uscc: "${ENTERPRISE}" }]) { ... on Enterprise { annualTaxPaid(year: 2023) } } }`;

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** A request straight to a subgraph with an identity the gateway really signed (as a captured one would be). */
describe('a subgraph refuses NOT_SHARED fields on its own', () => {
  let ex: Exchange;
  let gatewayKey: string;
  beforeAll(async () => {
    ex = await startExchange();
    gatewayKey = readFileSync(path.join(ex.config.dataDir, 'keys', DEV_IDENTITY_KEY_FILE), 'utf8');
  });
  afterAll(async () => {
    await ex.close();
  });

  const ask = async (subgraph: string, agency: string, query: string): Promise<Answer> => {
    const identity = await signIdentity(gatewayKey, { sub: `${agency}-insider`, agency, roles: [], purpose: null }, subgraph);
    const res = await fetch(ex.subgraphs.get(subgraph)!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TRUST_HEADER]: identity },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };

  it.each([
    ['amr', 'psb', CRIMINAL_RECORD, 'Person.criminalRecord'],
    ['hrss', 'psb', VIA_FRAGMENT, 'Person.criminalRecord'],
    ['amr', 'tax', TAX_PAID, 'Enterprise.annualTaxPaid'],
  ])('refuses %s, holding a valid identity for %s, its NOT_SHARED field with FORBIDDEN and no data', async (agency, subgraph, query, coordinate) => {
    const { status, body } = await ask(subgraph, agency, query);
    expect(status).toBe(403);
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_SHARED', coordinates: expect.arrayContaining([coordinate]) });
    expect(JSON.stringify(body)).not.toContain('convictions":');
  });

  it('answers the providing agency its own NOT_SHARED field', async () => {
    const { status, body } = await ask('psb', 'psb', CRIMINAL_RECORD);
    expect(status).toBe(200);
    expect(body.data).toEqual({ _entities: [{ criminalRecord: { hasRecord: expect.any(Boolean), convictions: expect.any(Number) } }] });
  });

  it('still answers another agency the fields it may be sent', async () => {
    const { status, body } = await ask('psb', 'amr', `{ _entities(representations: [{ __typename: "Person", idNumber: "${PERSON}" }]) { ... on Person { idNumber } } }`);
    expect(status).toBe(200);
    expect(body.data).toEqual({ _entities: [{ idNumber: PERSON }] });
  });

  it('keeps the gateway path unchanged: psb reads its own criminal record through the gateway', async () => {
    const res = await ex.query(`{ person(idNumber: "${PERSON}") { criminalRecord { hasRecord } } }`, { agency: 'psb' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ person: { criminalRecord: { hasRecord: expect.any(Boolean) } } });
  });
});
