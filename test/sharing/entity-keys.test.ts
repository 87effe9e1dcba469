import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idCheckChar, usccCheckChar } from '../../common/codes.ts';
import type { AuditRecord } from '../../gateway/audit/record.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { PERSON_KEYS, ENTERPRISE_KEYS } from '../../subgraphs/kit/synthetic.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

/** A well-formed ID number (right check character) that the reference data does not hold. */
function unknownIdNumber(): string {
  for (let n = 1000; n < 2000; n++) {
    const first17 = `44520219900101${String(n).slice(1)}`;
    const id = `${first17}${idCheckChar(first17)}`;
    if (!PERSON_KEYS.includes(id)) return id;
  }
  throw new Error('no free ID number');
}

function unknownUscc(): string {
  for (let n = 100; n < 1000; n++) {
    const first17 = `91445202MA4W3K${n}`;
    const code = `${first17}${usccCheckChar(first17)}`;
    if (!ENTERPRISE_KEYS.includes(code)) return code;
  }
  throw new Error('no free USCC');
}

describe('entity keys a request named in its arguments', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });
  const recordsOf = async (requestId: string | null): Promise<AuditRecord[]> => (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === requestId);

  it('records person(idNumber:) for a person not found with that ID number', async () => {
    const id = unknownIdNumber();
    const res = await ex.query(`{ person(idNumber: "${id}") { name } }`, { agency: 'hrss', purpose: 'social-insurance-administration' });
    expect(res.status).toBe(200);
    const records = await recordsOf(res.headers.get('x-request-id'));
    expect(records.find((r) => r.coordinate === 'Query.person')).toMatchObject({ decision: 'ALLOW', entityKeys: [id] });
    for (const r of records) expect(r.entityKeys, r.coordinate).toContain(id);
  });

  it('records a denied read of a person not found with that ID number', async () => {
    const id = unknownIdNumber();
    const res = await ex.query('query($id: IDNumber!) { person(idNumber: $id) { criminalRecord { hasRecord } } }', { agency: 'amr', variables: { id } });
    const records = await recordsOf(res.headers.get('x-request-id'));
    expect(records.find((r) => r.coordinate === 'Person.criminalRecord')).toMatchObject({ decision: 'DENY', reason: 'NOT_SHARED', entityKeys: [id] });
  });

  it('records every USCC of an enterprises(uscc: [..]) list, the unregistered one included, without the client selecting uscc', async () => {
    const missing = unknownUscc();
    const keys = [ENTERPRISE_KEYS[0]!, missing];
    const res = await ex.query('query($k: [USCC!]!) { enterprises(uscc: $k) { name taxpayerStatus } }', { agency: 'tax', variables: { k: keys } });
    expect(res.status).toBe(200);
    expect((res.body.data?.['enterprises'] as unknown[])[1]).toBeNull();
    const records = await recordsOf(res.headers.get('x-request-id'));
    for (const coordinate of ['Query.enterprises', 'Enterprise.name', 'Enterprise.taxpayerStatus']) {
      expect([...records.find((r) => r.coordinate === coordinate)!.entityKeys].sort(), coordinate).toEqual([...keys].sort());
    }
  });

  it('answers with no hidden field of its own when one is denied inside the query', async () => {
    const res = await ex.query(`{ enterprise(uscc: "${ENTERPRISE_KEYS[0]}") { name annualTaxPaid(year: 2024) } }`, { agency: 'amr' });
    expect(Object.keys(res.body.data?.['enterprise'] as object)).toEqual(['name', 'annualTaxPaid']);
    expect(JSON.stringify(res.body)).not.toContain('__x_');
  });

  it('refuses a request with a bad variable before any field is decided or fetched: 400 naming it, nothing read', async () => {
    const res = await ex.query('query($u: USCC!, $y: Int!) { enterprise(uscc: $u) { name emissions(year: $y) { cod } } }', {
      agency: 'eeb',
      variables: { u: ENTERPRISE_KEYS[0], y: 'twenty' },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(res.body.errors?.[0]?.message).toContain('$y');
    expect(res.body.data ?? null).toBeNull();
    expect(await recordsOf(res.headers.get('x-request-id'))).toEqual([]);
  });
});
