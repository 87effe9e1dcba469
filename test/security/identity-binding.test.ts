import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRUST_HEADER } from '../../common/trust.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENTERPRISE = '91445202MA4W3K7PX2';

/** An identity read off the gateway→subgraph wire, then replayed at the subgraph directly. */
describe('a captured gateway identity is bound to the operation it was signed for', () => {
  let ex: Exchange;
  let captured: { identity: string; query: string; variables: Record<string, unknown> | undefined };
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
    const res = await ex.query(`{ enterprise(uscc: "${ENTERPRISE}") { name taxpayerStatus } }`, { agency: 'amr' });
    expect(res.body.errors).toBeUndefined();
    const sent = ex.spies.get('tax')!.requests.at(-1)!;
    captured = { identity: String(sent.headers[TRUST_HEADER]), query: sent.query, variables: sent.variables };
  });
  afterAll(async () => {
    await ex.close();
  });

  const replay = async (query: string, variables: Record<string, unknown> | undefined): Promise<{ status: number; code: unknown }> => {
    const res = await fetch(ex.subgraphs.get('tax')!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TRUST_HEADER]: captured.identity },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: unknown } }[] };
    return { status: res.status, code: body.errors?.[0]?.extensions?.code };
  };

  it('refuses the identity with another query (401 UNAUTHENTICATED)', async () => {
    const other = `{ _entities(representations: [{ __typename: "Enterprise", uscc: "${ENTERPRISE}" }]) { ... on Enterprise { taxCreditGrade } } }`;
    expect(await replay(other, undefined)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('refuses it with the same query text plus one more field', async () => {
    const widened = captured.query.replace('taxpayerStatus', 'taxpayerStatus taxCreditGrade');
    expect(widened).not.toBe(captured.query);
    expect((await replay(widened, captured.variables)).status).toBe(401);
  });

  it('still answers the operation it was signed for (the gateway\u2019s own fetch)', async () => {
    expect((await replay(captured.query, captured.variables)).status).toBe(200);
  });
});
