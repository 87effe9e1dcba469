import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

/** One document, two operations answered in the gateway: each agency names the one it runs. */
const DOCUMENT = `
  query AmrCheck { mayRead(coordinate: "Enterprise.name") { decision } }
  query TaxCheck { check: mayRead(coordinate: "Enterprise.taxCreditGrade") { decision } __typename }
`;

describe('a multi-operation document on the local-answer route', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('answers each operation by name, whichever agency ran the document first', async () => {
    const first = await ex.query(DOCUMENT, { agency: 'amr', operationName: 'AmrCheck' });
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({ mayRead: { decision: expect.any(String) as unknown } });
    const second = await ex.query(DOCUMENT, { agency: 'tax', operationName: 'TaxCheck' });
    expect(second.body.errors).toBeUndefined();
    expect(second.body.data).toEqual({ check: { decision: expect.any(String) as unknown }, __typename: 'Query' });
    const again = await ex.query(DOCUMENT, { agency: 'amr', operationName: 'AmrCheck' });
    expect(again.body.data).toEqual({ mayRead: { decision: expect.any(String) as unknown } });
  });
});
