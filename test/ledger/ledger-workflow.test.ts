import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { auditReader } from '../../ledger/audit-reader.ts';
import { verifyLedger } from '../../ledger/ledger.ts';
import type { Verification } from '../../ledger/log/verify.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { gatewayPublicKey } from '../../common/trust-keys.ts';
import { postGraphQL, startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { freePort } from '../helpers/redis-server.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../helpers/wait.ts';

const REDIS = 'redis://127.0.0.1:6379';

const FILE = `mutation { fileSharingRequest(provider: "tax", datasets: ["tax.credit-rating"], purposes: ["environmental-enforcement"], legalBasis: "R-11", justification: "环境信用评价", validUntil: "2030-12-31") { id status } }`;
const PROVIDER_VIEW = '{ sharingRequests(role: PROVIDER) { id consumer } }';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function idOf(r: GraphQLResponse): string {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const id = (r.body.data?.['fileSharingRequest'] as { id: string } | undefined)?.id;
  expect(id, JSON.stringify(r.body)).toMatch(/^sr-\d{8}-\d{4,}$/);
  return id!;
}

async function providerSees(ex: Exchange, url: string): Promise<string[]> {
  const r = await postGraphQL(url, PROVIDER_VIEW, { agency: 'tax' }, ex.token);
  return ((r.body.data?.['sharingRequests'] ?? []) as { id: string }[]).map((x) => x.id);
}

function ledgerIntact(dataDir: string, redisUrl: string | null, redisPrefix = 'exchange:', logSigningKey: string | null = null): Promise<Verification> {
  return verifyLedger({ dataDir, redisUrl, redisPrefix, logSigningKey });
}

describe('the ledger behind the sharing-request workflow', () => {
  it('gives 50 concurrent fileSharingRequest calls through the gateway 50 distinct ids, all visible to the provider', async () => {
    const ex = await startExchange();
    cleanups.push(() => ex.close());
    const ids = (await Promise.all(Array.from({ length: 50 }, () => ex.query(FILE, { agency: 'eeb', purpose: 'environmental-enforcement' })))).map(idOf);
    expect(new Set(ids).size).toBe(50);
    expect(new Set(await providerSees(ex, ex.url))).toEqual(new Set(ids));
    const v = await ledgerIntact(ex.config.dataDir, null);
    expect(v.ok).toBe(true);
    expect(v.records).toBeGreaterThanOrEqual(50); // the filings, and the gateway's policy revision
  });

  it('with two exchange instances on one Redis, behind two gateways, ids stay distinct and each instance sees the other one’s requests', async () => {
    const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    // Every host that writes the shared ledger signs with the one log key.
    const logKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ex = await startExchange({ env: { REDIS_URL: REDIS, REDIS_PREFIX: prefix, INSTANCE_ID: 'gw-a', LOG_SIGNING_KEY: logKeyPem } });
    cleanups.push(async () => {
      await ex.close();
      const r = new Redis(REDIS);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    });
    // A second exchange subgraph, as on another host: its own DATA_DIR, the same Redis.
    const otherDir = path.join(ex.config.dataDir, '..', 'other-host');
    const env = { dataDir: otherDir, redisUrl: REDIS, redisPrefix: prefix, supergraphPath: ex.config.supergraphPath, auditReader: auditReader({ dataDir: otherDir, redisUrl: REDIS, redisPrefix: prefix }), logSigningKey: logKeyPem };
    const second: RunningSubgraph = await startSubgraphServer(await loadSubgraph('exchange', env), { host: '127.0.0.1', port: 0, gatewayPublicKey: gatewayPublicKey(ex.config) });
    cleanups.push(() => second.close());
    const gwB = await ex.startAnotherGateway({ INSTANCE_ID: 'gw-b', SUBGRAPH_URL_EXCHANGE: second.url });

    const ids = (
      await Promise.all(Array.from({ length: 50 }, (_, i) => postGraphQL(i % 2 === 0 ? ex.url : gwB.url, FILE, { agency: 'eeb', purpose: 'environmental-enforcement' }, ex.token)))
    ).map(idOf);
    expect(new Set(ids).size).toBe(50);
    const all = new Set(ids);
    await until(async () => new Set(await providerSees(ex, ex.url)).size === 50 && new Set(await providerSees(ex, gwB.url)).size === 50);
    expect(new Set(await providerSees(ex, ex.url))).toEqual(all);
    expect(new Set(await providerSees(ex, gwB.url))).toEqual(all);

    // An answer on one instance is seen by the other.
    const approve = await postGraphQL(gwB.url, `mutation { approveSharingRequest(id: "${ids[0]}") { status } }`, { agency: 'tax' }, ex.token);
    expect(approve.body.data).toEqual({ approveSharingRequest: { status: 'APPROVED' } });
    const seenOnA = async (): Promise<boolean> => {
      const r = await postGraphQL(ex.url, `{ sharingRequest(id: "${ids[0]}") { status } }`, { agency: 'eeb' }, ex.token);
      return (r.body.data?.['sharingRequest'] as { status: string } | undefined)?.status === 'APPROVED';
    };
    await until(seenOnA);
    // Both instances answering the same request: exactly one answer is recorded.
    const race = await Promise.all([ex.url, gwB.url].map((u) => postGraphQL(u, `mutation { refuseSharingRequest(id: "${ids[1]}", reasons: "不符合条件") { status } }`, { agency: 'tax' }, ex.token)));
    expect(race.filter((r) => r.body.data?.['refuseSharingRequest'] !== null && r.body.data?.['refuseSharingRequest'] !== undefined)).toHaveLength(1);
    expect(await ledgerIntact(ex.config.dataDir, REDIS, prefix, logKeyPem)).toMatchObject({ ok: true });
  });

  it('kill -9 of the exchange subgraph in a burst of workflow steps loses no acknowledged step, and the ledger verifies', async () => {
    const ex = await startExchange();
    cleanups.push(() => ex.close());
    const port = await freePort();
    const start = (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bin/subgraph.ts', 'exchange'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), DATA_DIR: ex.config.dataDir, SUPERGRAPH_PATH: ex.config.supergraphPath, POLICY_DIR: ex.config.policyDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return new Promise((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('subgraph exchange')) resolve(child);
        });
        child.once('exit', (code) => reject(new Error(`exchange subgraph exited with ${code}: ${err}`)));
      });
    };
    let child = await start();
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    const gw = await ex.startAnotherGateway({ INSTANCE_ID: 'gw-crash', SUBGRAPH_URL_EXCHANGE: `http://127.0.0.1:${port}/graphql` });

    // File, then answer each request, 8 clients at a time, until the process is killed.
    const acked: { id: string; step: 'filed' | 'approved' }[] = [];
    let stop = false;
    let killAt: (() => void) | null = null;
    const killed = new Promise<void>((resolve) => {
      killAt = resolve;
    });
    const client = async (): Promise<void> => {
      while (!stop) {
        try {
          const filed = await postGraphQL(gw.url, FILE, { agency: 'eeb', purpose: 'environmental-enforcement' }, ex.token);
          const id = (filed.body.data?.['fileSharingRequest'] as { id: string } | undefined)?.id;
          if (id === undefined) continue;
          acked.push({ id, step: 'filed' });
          const approved = await postGraphQL(gw.url, `mutation { approveSharingRequest(id: "${id}") { status } }`, { agency: 'tax' }, ex.token);
          if ((approved.body.data?.['approveSharingRequest'] as { status: string } | undefined)?.status === 'APPROVED') acked.push({ id, step: 'approved' });
          if (acked.length >= 40) killAt?.();
        } catch {
          // the subgraph is gone; the gateway answered with an error
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await killed;
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);

    child = await start();
    // The gateway's circuit breaker may still hold the exchange down after the failures the kill
    // caused: wait until the restarted subgraph answers through the gateway, then read.
    let r: GraphQLResponse | null = null;
    await until(async () => {
      r = await postGraphQL(gw.url, '{ sharingRequests(role: PROVIDER) { id status } }', { agency: 'tax' }, ex.token);
      return r.status === 200 && r.body.errors === undefined;
    }, 'the restarted exchange subgraph to answer through the gateway', 30_000);
    const status = new Map(((r!.body.data?.['sharingRequests'] ?? []) as { id: string; status: string }[]).map((x) => [x.id, x.status]));
    expect(acked.length).toBeGreaterThanOrEqual(40);
    for (const a of acked) {
      expect(status.has(a.id), `acknowledged ${a.step} of ${a.id} is missing`).toBe(true);
      if (a.step === 'approved') expect(status.get(a.id)).toBe('APPROVED');
    }
    expect(await ledgerIntact(ex.config.dataDir, null)).toMatchObject({ ok: true });
  }, 90_000);
});
