import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../gateway/circuit-breaker.ts';
import { SubgraphDownError, subgraphPost } from '../../gateway/subgraph-fetch.ts';

/** A subgraph stand-in on loopback whose answer each path chooses; /silent never answers. */
const ANSWERS: Record<string, { status: number; type: string; body: string }> = {
  '/ok': { status: 200, type: 'application/json; charset=utf-8', body: '{"data":{"a":1}}' },
  '/graphql-response': { status: 200, type: 'application/graphql-response+json', body: '{"data":{"a":2}}' },
  '/error-status': { status: 500, type: 'application/json', body: '{"data":{"a":3}}' },
  '/html': { status: 200, type: 'text/html', body: '<html></html>' },
  '/array': { status: 200, type: 'application/json', body: '[1,2]' },
  '/not-json': { status: 200, type: 'application/json', body: '{"data":' },
};

describe('the subgraph client', () => {
  let server: Server;
  let base: string;
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const answer = ANSWERS[req.url ?? ''];
        if (answer === undefined) return; // /silent: hold the request
        res.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const post = (path: string, timeoutMs = 5000): ReturnType<ReturnType<typeof subgraphPost>> =>
    subgraphPost(`${base}${path}`, { timeoutMs, breaker: new CircuitBreaker({ failureThreshold: 3, cooldownMs: 2000 }) })('{"query":"{ a }"}', { 'content-type': 'application/json', 'x-exchange-identity': 'token' });

  it('posts the body and headers it is given and returns the parsed answer with its Cache-Control', async () => {
    const answer = await post('/ok');
    expect(answer).toEqual({ body: { data: { a: 1 } }, cacheControl: 'no-store' });
    const last = seen.at(-1)!;
    expect(last.body).toBe('{"query":"{ a }"}');
    expect(last.headers['x-exchange-identity']).toBe('token');
    expect(last.headers['content-type']).toBe('application/json');
  });

  it('accepts application/graphql-response+json as @apollo/gateway does', async () => {
    expect((await post('/graphql-response')).body).toEqual({ data: { a: 2 } });
  });

  it.each([
    ['an HTTP error status', '/error-status'],
    ['a body that is not JSON by its content type', '/html'],
    ['a JSON body that is not an object', '/array'],
    ['a JSON body cut short', '/not-json'],
  ])('refuses %s as a bad answer', async (_what, path) => {
    await expect(post(path)).rejects.toMatchObject({ name: 'SubgraphDownError', why: 'bad-answer' });
  });

  it('gives up on a subgraph that does not answer within its deadline', async () => {
    const err = await post('/silent', 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubgraphDownError);
    expect(err).toMatchObject({ why: 'timeout' });
  });
});
