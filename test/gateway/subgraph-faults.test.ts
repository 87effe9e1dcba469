import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterOutcome, admit, CLOSED, type BreakerState } from '../../gateway/circuit-breaker.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const JOINED = `{ enterprise(uscc: "${ENT}") { name dischargePermit { number } } }`;

/** A proxy in front of a subgraph that can be told to hold every request without answering. */
async function startValve() {
  let hanging = false;
  let received = 0;
  const held: ServerResponse[] = [];
  let to = new URL('http://127.0.0.1:9/graphql');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received++;
    if (hanging) {
      held.push(res);
      req.resume();
      return;
    }
    const up = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    forwardTo(target: string) {
      to = new URL(target);
    },
    get received() {
      return received;
    },
    hang(on: boolean) {
      hanging = on;
      if (!on) for (const r of held.splice(0)) r.destroy();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the circuit breaker transitions', () => {
  const opts = { failureThreshold: 3, cooldownMs: 1000 };
  const fail = (s: BreakerState, now: number): BreakerState => afterOutcome(s, false, now, opts);

  it('opens after three failures in a row and refuses until the cool-down is over', () => {
    const open = fail(fail(fail(CLOSED, 0), 0), 0);
    expect(open).toEqual({ phase: 'open', until: 1000 });
    expect(admit(open, 999).allowed).toBe(false);
  });
  it('lets one probe through after the cool-down and refuses the rest while it is out', () => {
    const probe = admit({ phase: 'open', until: 1000 }, 1000);
    expect(probe).toEqual({ allowed: true, next: { phase: 'half-open' } });
    expect(admit(probe.next, 1001).allowed).toBe(false);
  });
  it('closes on a successful probe and opens again on a failed one', () => {
    expect(afterOutcome({ phase: 'half-open' }, true, 5, opts)).toEqual(CLOSED);
    expect(afterOutcome({ phase: 'half-open' }, false, 5, opts)).toEqual({ phase: 'open', until: 1005 });
  });
  it('forgets failures once a fetch succeeds', () => {
    expect(afterOutcome(fail(fail(CLOSED, 0), 0), true, 0, opts)).toEqual(CLOSED);
  });
});

describe('a subgraph that stops answering', () => {
  let ex: Exchange;
  let valve: Awaited<ReturnType<typeof startValve>>;
  beforeAll(async () => {
    valve = await startValve();
    ex = await startExchange({ env: { SUBGRAPH_URL_EEB: valve.url, SUBGRAPH_TIMEOUT_MS: '300' } });
    valve.forwardTo(ex.subgraphs.get('eeb')!.url);
  });
  afterAll(async () => {
    await ex.close();
    await valve.close();
  });

  it('answers the rest with eeb\u2019s fields SUBGRAPH_UNAVAILABLE once the timeout passes', async () => {
    valve.hang(true);
    const res = await ex.query(JOINED, { agency: 'tax' });
    expect(res.status).toBe(200);
    expect(res.body.data?.['enterprise']).toMatchObject({ name: expect.any(String), dischargePermit: null });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'eeb' });
    expect(res.body.errors?.[0]?.message).toMatch(/did not answer in time/);
  });

  it('reports eeb on GET /health as degraded: subgraphs', async () => {
    const res = await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; degraded: string[]; subgraphs: Record<string, { reachable: boolean }> };
    expect(body).toMatchObject({ status: 'degraded', degraded: ['subgraphs'] });
    expect(body.subgraphs['eeb']?.reachable).toBe(false);
    expect(body.subgraphs['amr']?.reachable).toBe(true);
  });

  it('stops sending eeb requests after three failures in a row (fails fast), and probes it back once it answers', async () => {
    for (let i = 0; i < 3; i++) await ex.query(JOINED, { agency: 'tax' });
    const before = valve.received;
    const fast = await ex.query(JOINED, { agency: 'tax' });
    expect(fast.body.errors?.[0]?.message).toMatch(/it is down/);
    expect(valve.received).toBe(before);

    valve.hang(false);
    let back = fast;
    for (let i = 0; i < 200 && back.body.errors !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      back = await ex.query(JOINED, { agency: 'tax' });
    }
    expect(back.body.errors).toBeUndefined();
    expect(back.body.data?.['enterprise']).toMatchObject({ dischargePermit: { number: expect.any(String) } });
  });
});

describe('GET /health and the audit store', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('answers 200 ok with every subgraph reachable and the audit store writable', async () => {
    const res = await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', degraded: [], audit: { store: 'file', writable: true } });
  });

  it('answers 503 degraded naming audit while the log directory cannot take writes, and ok again after', async () => {
    await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`);
    const dir = path.join(ex.config.dataDir, 'audit', ex.gateway.instance);
    renameSync(dir, `${dir}.away`);
    writeFileSync(dir, 'blocked');
    try {
      const res = await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'degraded', degraded: ['audit'], audit: { writable: false } });
    } finally {
      rmSync(dir);
      renameSync(`${dir}.away`, dir);
    }
    expect((await fetch(new URL('/health', ex.url), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } })).status).toBe(200);
  });
});
