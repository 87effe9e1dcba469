import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { freePort, startChild, type Child } from '../reliability/processes.ts';

/**
 * The attack of a client holding thousands of sockets open with half-sent headers, against a
 * gateway process with 1024 file descriptors (a production process has a limit too; this one is
 * small enough that 3,000 sockets exhaust it). The flood comes from 127.0.0.2, the legitimate
 * caller from 127.0.0.1: both are this machine's loopback.
 */
const FLOOD = 3000;
const FD_LIMIT = 1024;
const PER_ADDRESS = 200;

describe('a flood of idle sockets with partial headers', () => {
  let ex: Exchange;
  let gateway: Child;
  let port = 0;
  const flood: Socket[] = [];

  beforeAll(async () => {
    ex = await startExchange({ env: { HEADERS_TIMEOUT_MS: '1000' } });
    port = await freePort();
    const urls = Object.fromEntries([...ex.subgraphs].map(([n, s]) => [`SUBGRAPH_URL_${n.toUpperCase()}`, s.url]));
    // The child shares the exchange's DATA_DIR, so its development keys are the ones ex.token signs with.
    gateway = await startChild(
      '/bin/sh',
      ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', 'bin/gateway.ts'],
      {
        DATA_DIR: ex.config.dataDir,
        POLICY_DIR: path.join(ROOT, 'policies'),
        SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'),
        PORT: String(port),
        INSTANCE_ID: 'flooded',
        REDIS_URL: '',
        MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
        // Long enough that no held socket times out while the flood is counted.
        HEADERS_TIMEOUT_MS: '60000',
        REQUEST_TIMEOUT_MS: '60000',
        ...urls,
      },
      /gateway at http/,
    );
  }, 120_000);

  afterAll(async () => {
    for (const s of flood) s.destroy();
    await gateway.stop();
    await ex.close();
  });

  /**
   * A request on a fresh connection (no pooled socket from before the flood). Without the caps the
   * flood exhausts the gateway's descriptors and this request is refused outright ("socket hang
   * up"); with them it answers. Its time is printed, not asserted: the bound is generous so that a
   * busy test machine cannot fail it, and the time itself (well under 1 s) shows in the output.
   */
  const legitimate = (timeoutMs = 5000): Promise<number> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ query: '{ __typename }' });
      const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent: false, timeout: timeoutMs, headers: { 'content-type': 'application/json', authorization: `Bearer ${ex.token('tax')}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });

  it('still answers a legitimate request while 3,000 sockets from one address hold partial headers, closing those over the per-address cap at once', async () => {
    // The first request of a fresh process compiles its plans: not what this test measures.
    expect(await legitimate(30_000)).toBe(200);
    let closedByServer = 0;
    let overCapClosed: () => void = () => undefined;
    const allOverCapClosed = new Promise<void>((resolve) => (overCapClosed = resolve));
    // Each socket settles when connected and sent its partial request, or closed, or (never on a
    // guarded gateway) when the kernel stops completing connections at all.
    const settled = Array.from({ length: FLOOD }, () => new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      flood.push(socket);
      socket.setTimeout(5000, () => resolve());
      socket.on('error', () => resolve());
      socket.on('close', () => {
        if (++closedByServer === FLOOD - PER_ADDRESS) overCapClosed();
        resolve();
      });
      socket.on('connect', () => {
        socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
        resolve();
      });
    }));
    await Promise.all(settled);
    const started = performance.now();
    expect(await legitimate()).toBe(200);
    console.log(`legitimate request during a flood of ${FLOOD} sockets: ${(performance.now() - started).toFixed(1)} ms`);
    // Those over the cap were closed without waiting for any timeout.
    await allOverCapClosed;
    expect(flood.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(PER_ADDRESS);
  }, 60_000);

  it('closes a socket that never finishes its headers once HEADERS_TIMEOUT_MS (1 s here) has passed, answering 408', async () => {
    const socket = connect({ host: '127.0.0.1', port: ex.gateway.port });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${ex.gateway.port}\r\n`));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 60_000);
});

describe('the connection settings', () => {
  it.each([
    [{ MAX_CONNECTIONS: '0' }, 'MAX_CONNECTIONS must be an integer from 1 to 1000000, got "0"'],
    [{ MAX_CONNECTIONS_PER_ADDRESS: 'many' }, 'MAX_CONNECTIONS_PER_ADDRESS must be an integer from 1 to 1000000, got "many"'],
    [{ HEADERS_TIMEOUT_MS: '10' }, 'HEADERS_TIMEOUT_MS must be an integer from 1000 to 600000, got "10"'],
  ])('refuses %o with one line naming it', (env, message) => {
    let problems: readonly string[] = [];
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) problems = e.problems;
    }
    expect(problems).toEqual([message]);
  });

  it('defaults to caps and timeouts that hold a flood off', () => {
    expect(loadConfig({}).connections).toMatchObject({ total: 8192, perAddress: 256, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  });
});
