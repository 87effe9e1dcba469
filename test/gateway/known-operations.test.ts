import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownOperations } from '../../gateway/http/known-operations.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

/** One raw POST: status, the headers a client sees, the exact body text. */
async function post(ex: Exchange, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | null>; text: string; requestId: string }> {
  const res = await fetch(ex.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ex.token('tax')}`, 'x-purpose': 'tax-collection', ...headers },
    body: JSON.stringify(body),
  });
  const seen: Record<string, string | null> = {};
  for (const name of ['content-type', 'cache-control', 'content-length']) seen[name] = res.headers.get(name);
  return { status: res.status, headers: seen, text: await res.text(), requestId: res.headers.get('x-request-id') ?? '' };
}

const JOINED = {
  query: 'query Joined($u: USCC!) { enterprise(uscc: $u) { name status taxpayerStatus insuredEmployees dischargePermit { number validUntil } } }',
  variables: { u: '91445202MA4W3K7PX2' },
  operationName: 'Joined',
};

describe('an operation the gateway has answered before', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('is answered again with the same status, headers and bytes, and audited each time', async () => {
    const first = await post(ex, JOINED);
    const second = await post(ex, JOINED);
    const third = await post(ex, JOINED, { accept: 'application/json' });
    expect(first.status).toBe(200);
    expect(first.text).toContain('"taxpayerStatus"');
    for (const again of [second, third]) {
      expect(again.status).toBe(first.status);
      expect(again.headers).toEqual(first.headers);
      expect(again.text).toBe(first.text);
    }
    const records = await fileAuditRecords(ex.config.dataDir);
    for (const r of [first, second, third]) {
      expect(records.filter((x) => x.requestId === r.requestId && x.coordinate === 'Enterprise.insuredEmployees'), r.requestId).toHaveLength(1);
    }
  });

  it('with a denied field, is answered again with the same errors, each carrying its own request id', async () => {
    const denied = { query: '{ enterprise(uscc: "91445202MA4W3K7PX2") { name emissions(year: 2024) { year } } }' };
    const first = await post(ex, denied);
    const second = await post(ex, denied);
    expect(first.text).toContain('GRANT_REQUIRED');
    expect(second.status).toBe(first.status);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers['cache-control']).toBe(first.headers['cache-control']);
    expect(second.text).toContain(second.requestId);
    expect(second.text.replace(second.requestId, 'ID')).toBe(first.text.replace(first.requestId, 'ID'));
  });

  it('with variables that fail a check, is refused again as it was the first time', async () => {
    const bad = { ...JOINED, variables: { u: '91445202MA4W3K7PX3' } };
    await post(ex, JOINED);
    const first = await post(ex, bad);
    const second = await post(ex, bad);
    expect(first.text).toContain('BAD_USER_INPUT');
    expect(second.status).toBe(first.status);
    expect(second.text.replace(second.requestId, 'ID')).toBe(first.text.replace(first.requestId, 'ID'));
  });
});

describe('the known operations kept for the direct path', () => {
  const schema = buildSchema('type Query { a: Int }');
  const known = (query: string) => {
    const document = parse(query);
    return { schema, document, operation: document.definitions[0] as OperationDefinitionNode, queryHash: query };
  };

  it('are found by text and operation name, and forgotten once a thousand more were kept', () => {
    const ops = new KnownOperations();
    ops.schemaLoaded(schema);
    ops.remember('query Q { a }', 'Q', known('query Q { a }'));
    expect(ops.find('query Q { a }', 'Q')).toBeDefined();
    expect(ops.find('query Q { a }', undefined)).toBeUndefined();
    for (let i = 0; i < 1000; i++) ops.remember(`{ a${' '.repeat(i)} }`, undefined, known('{ a }'));
    expect(ops.find('query Q { a }', 'Q')).toBeUndefined();
  });

  it('never hold more than 8 MiB of operation text', () => {
    const ops = new KnownOperations();
    ops.schemaLoaded(schema);
    const big = (n: number): string => `{ a }${' '.repeat(3 * 1024 * 1024)}# ${n}`;
    ops.remember(big(1), undefined, known('{ a }'));
    ops.remember(big(2), undefined, known('{ a }'));
    expect(ops.find(big(1), undefined)).toBeDefined();
    ops.remember(big(3), undefined, known('{ a }'));
    expect(ops.find(big(1), undefined)).toBeUndefined();
    expect(ops.find(big(3), undefined)).toBeDefined();
  });

  it('are forgotten when another schema loads, and one accepted under the earlier schema is not kept', () => {
    const ops = new KnownOperations();
    ops.schemaLoaded(schema);
    ops.remember('{ a }', undefined, known('{ a }'));
    const next = buildSchema('type Query { a: Int b: Int }');
    ops.schemaLoaded(next);
    expect(ops.find('{ a }', undefined)).toBeUndefined();
    // A request validated before the switch finishes after it.
    ops.remember('{ a }', undefined, known('{ a }'));
    expect(ops.find('{ a }', undefined)).toBeUndefined();
    const current = { ...known('{ a }'), schema: next };
    ops.remember('{ a }', undefined, current);
    expect(ops.find('{ a }', undefined)).toBe(current);
  });
});
