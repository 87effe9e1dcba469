import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditRecords } from '../helpers/audit.ts';
import { loadConfig, ConfigError } from '../../gateway/config.ts';
import { BODY_LIMIT } from '../../gateway/http/handler.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const APP = 'http://app.tax.test:8080';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const ACCEPT_BOTH = `${GRAPHQL_RESPONSE}, application/json;q=0.9`;

describe('the gateway’s HTTP front for standard clients', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange({ env: { CORS_ORIGINS: `${APP}, https://other.test` } });
  });
  afterAll(async () => {
    await ex.close();
  });
  const post = (headers: Record<string, string>, body = JSON.stringify({ query: `{ enterprise(uscc: "${ENT}") { name } }` }), url = ex.url): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const errorsOf = async (res: Response): Promise<{ message: string; extensions: Record<string, unknown> }[]> => ((await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] }).errors;

  it('answers a request without a token 401 as graphql-response+json with a bare Bearer challenge and the request id', async () => {
    const res = await post({ accept: ACCEPT_BOTH });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const [error] = await errorsOf(res);
    expect(error).toMatchObject({ message: 'Not authenticated: missing Authorization header.', extensions: { code: 'UNAUTHENTICATED', requestId: res.headers.get('x-request-id') } });
  });

  it('answers a refused token 401 with WWW-Authenticate: Bearer error="invalid_token"', async () => {
    const res = await post({ accept: ACCEPT_BOTH, authorization: `Bearer ${ex.token('tax', [], -60)}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await errorsOf(res))[0]!.message).toBe('Not authenticated: token expired.');
  });

  it('uses application/json for a client that does not accept graphql-response+json', async () => {
    const res = await post({ accept: 'application/json' });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it.each([
    ['an unknown purpose', 400, 'BAD_USER_INPUT', { 'x-purpose': 'fishing' }, undefined, '/graphql'],
    ['a body over the limit', 400, 'BAD_USER_INPUT', {}, JSON.stringify({ query: `{ __typename }`, pad: 'x'.repeat(BODY_LIMIT) }), '/graphql'],
    ['an unknown route', 404, 'NOT_FOUND', {}, undefined, '/nowhere'],
  ])('refuses %s with %i %s as graphql-response+json carrying the request id', async (_what, status, code, headers, body, route) => {
    const res = await post({ accept: ACCEPT_BOTH, authorization: `Bearer ${ex.token('tax')}`, ...headers }, body, ex.url.replace('/graphql', route));
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect((await errorsOf(res))[0]!.extensions).toMatchObject({ code, requestId: res.headers.get('x-request-id') });
  });

  it('puts the request id into errors Apollo answers (validation) and into sharing denials', async () => {
    const bad = await post({ authorization: `Bearer ${ex.token('tax')}`, 'x-request-id': 'val-1' }, JSON.stringify({ query: '{ nope }' }));
    expect(bad.status).toBe(400);
    expect((await errorsOf(bad))[0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', requestId: 'val-1' });
    const denied = await post({ authorization: `Bearer ${ex.token('amr')}`, 'x-request-id': 'deny-1' }, JSON.stringify({ query: `{ enterprise(uscc: "${ENT}") { annualTaxPaid(year: 2024) } }` }));
    expect((await errorsOf(denied))[0]!.extensions).toMatchObject({ code: 'FORBIDDEN', requestId: 'deny-1' });
  });

  it('keeps a well-formed client x-request-id: echoed, in the errors, and in the audit records', async () => {
    const id = 'app-7f3a.retry_2';
    const res = await post({ authorization: `Bearer ${ex.token('amr')}`, 'x-request-id': id }, JSON.stringify({ query: `{ enterprise(uscc: "${ENT}") { name annualTaxPaid(year: 2024) } }` }));
    expect(res.headers.get('x-request-id')).toBe(id);
    expect((await errorsOf(res))[0]!.extensions['requestId']).toBe(id);
    const records = (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === id);
    expect(records.map((r) => `${r.coordinate} ${r.decision}`).sort()).toEqual(['Enterprise.annualTaxPaid DENY', 'Enterprise.name ALLOW', 'Query.enterprise ALLOW']);
  });

  it.each([['x'.repeat(65)], ['has space'], ['semi;colon'], ['']])('replaces a malformed x-request-id (%j) with its own', async (id) => {
    const res = await post({ authorization: `Bearer ${ex.token('tax')}`, 'x-request-id': id });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lets a GET query with a bearer token and x-purpose through CSRF prevention', async () => {
    const res = await fetch(`${ex.url}?query=${encodeURIComponent(`{ enterprise(uscc: "${ENT}") { name insuredEmployees } }`)}`, { headers: { authorization: `Bearer ${ex.token('tax')}`, 'x-purpose': 'tax-collection' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { enterprise: { insuredEmployees: number } } }).data.enterprise.insuredEmployees).toEqual(expect.any(Number));
  });

  it('refuses a batch with one error per operation naming the setting', async () => {
    const res = await post({ authorization: `Bearer ${ex.token('tax')}` }, JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string }[] }[];
    expect(body).toHaveLength(2);
    for (const r of body) expect(r.errors[0]!.message).toMatch(/^Batched requests are refused: .*operation batching is off in the gateway.*HttpLink, not BatchHttpLink/);
  });

  it('answers a preflight from a listed origin before authentication, with the methods and headers a client needs', async () => {
    const res = await fetch(ex.url, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-purpose' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.split(/,\s*/);
    for (const h of ['authorization', 'content-type', 'x-purpose', 'x-request-id', 'apollo-require-preflight']) expect(allowed).toContain(h);
  });

  it('refuses a preflight from an origin not listed, with no CORS header at all', async () => {
    const res = await fetch(ex.url, { method: 'OPTIONS', headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(403);
    expect([...res.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    expect((await errorsOf(res))[0]!.extensions['code']).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('lets a listed origin read answers and refusals, and gives other origins nothing', async () => {
    const ok = await post({ origin: APP, authorization: `Bearer ${ex.token('tax')}` });
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const refused = await post({ origin: APP });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await post({ origin: 'https://evil.test', authorization: `Bearer ${ex.token('tax')}` });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS_ORIGINS and RATE_LIMIT_PER_MINUTE configuration', () => {
  const problems = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (e) {
      return e instanceof ConfigError ? e.problems : [String(e)];
    }
  };

  it('defaults to no origin and no limit', () => {
    const config = loadConfig({});
    expect(config.corsOrigins).toEqual([]);
    expect(config.rateLimitPerMinute).toBeNull();
  });

  it('reads a comma-separated list of origins', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.gov.cn, http://localhost:5173' }).corsOrigins).toEqual(['https://a.example.gov.cn', 'http://localhost:5173']);
  });

  it.each([
    ['*', 'is not accepted'],
    ['https://a.example.gov.cn/', 'no path or trailing slash (did you mean https://a.example.gov.cn?)'],
    ['a.example.gov.cn', 'is not an origin'],
    ['ftp://a.example.gov.cn', 'must use http or https'],
  ])('refuses CORS_ORIGINS entry %j naming it', (origin, message) => {
    expect(problems({ CORS_ORIGINS: origin })).toEqual([expect.stringContaining(`CORS_ORIGINS: "${origin}" `)]);
    expect(problems({ CORS_ORIGINS: origin })[0]).toContain(message);
  });

  it.each(['0', '-5', 'ten', '1.5'])('refuses RATE_LIMIT_PER_MINUTE=%s naming the variable', (value) => {
    expect(problems({ RATE_LIMIT_PER_MINUTE: value })).toEqual([`RATE_LIMIT_PER_MINUTE must be an integer from 1 to 1000000 (unset: no limit), got "${value}"`]);
  });
});
