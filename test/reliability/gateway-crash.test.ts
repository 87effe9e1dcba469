import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditRecords, verifyFileAudit } from '../helpers/audit.ts';
import { loadConfig } from '../../gateway/config.ts';
import { verificationKey } from '../../gateway/identity/keys.ts';
import { signToken } from '../../gateway/identity/token.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { SUBGRAPHS } from '../../subgraphs/registry.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { developmentIdentityKeys } from '../../common/trust-keys.ts';
import { ROOT } from '../helpers/root.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function startGatewayProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/gateway.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('gateway at ')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
}

const QUERY = JSON.stringify({ query: '{ enterprise(uscc: "91445202MA4W3K7PX2") { name taxpayerStatus insuredEmployees } }' });

describe('a gateway process stopped under load', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-crash-'));
  const subgraphs: RunningSubgraph[] = [];
  const base = { POLICY_DIR: path.join(ROOT, 'policies'), SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql') };
  const env: Record<string, string> = {};
  beforeAll(async () => {
    const keys = developmentIdentityKeys(path.join(tmp, 'subgraphs'));
    env.GATEWAY_SIGNING_KEY = keys.privateKeyPem;
    for (const info of SUBGRAPHS) {
      const s = await startSubgraphServer(await loadSubgraph(info.name, { dataDir: path.join(tmp, 'subgraphs'), redisUrl: null, redisPrefix: 'x:', supergraphPath: base.SUPERGRAPH_PATH }), { host: '127.0.0.1', port: 0, gatewayPublicKey: keys.publicKeyPem });
      subgraphs.push(s);
      env[`SUBGRAPH_URL_${info.name.toUpperCase()}`] = s.url;
    }
  });
  afterAll(async () => {
    for (const s of subgraphs) await s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A gateway with its own data directory (sharing the subgraphs' trust secret) and a client that can load it. */
  async function gatewayUnderTest(name: string) {
    const dataDir = path.join(tmp, name);
    // NODE_ENV as a deployment has it: Apollo would otherwise install its own signal handlers
    const gwEnv = { ...env, ...base, NODE_ENV: 'production', DATA_DIR: dataDir, INSTANCE_ID: `gw-${name}`, PORT: String(await freePort()) };
    const config = loadConfig(gwEnv);
    const token = signToken(verificationKey(config), { agency: 'tax', ttlSeconds: 600 }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
    const url = `http://127.0.0.1:${gwEnv.PORT}/graphql`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'tax-collection' };
    const received: string[] = [];
    let stop = false;
    let enough: { count: number; reached: () => void } | null = null;
    const worker = async (): Promise<void> => {
      while (!stop) {
        try {
          const res = await fetch(url, { method: 'POST', headers, body: QUERY });
          await res.text();
          if (res.status === 200) received.push(res.headers.get('x-request-id')!);
          if (enough !== null && received.length >= enough.count) enough.reached();
        } catch {
          return; // the gateway is gone
        }
      }
    };
    return {
      dataDir,
      url,
      headers,
      received,
      start: () => startGatewayProcess(gwEnv),
      /**
       * Runs 16 concurrent clients until `count` responses have come back (so a loaded machine
       * only makes it slower), then `interrupt()`s and waits for the clients to see the end.
       */
      async load(count: number, interrupt: () => void): Promise<void> {
        stop = false;
        const reached = new Promise<void>((resolve) => {
          enough = { count, reached: resolve };
        });
        const workers = Array.from({ length: 16 }, worker);
        await reached;
        enough = null;
        interrupt();
        stop = true;
        await Promise.all(workers);
      },
      missingFromLog: async () => {
        const logged = new Set((await fileAuditRecords(dataDir)).map((r) => r.requestId));
        return received.filter((id) => !logged.has(id));
      },
    };
  }

  it('after kill -9 every response a client received has its records in the log, the chain verifies, and a restart continues it', async () => {
    const gw = await gatewayUnderTest('kill9');
    let gateway = await gw.start();
    await gw.load(60, () => gateway.kill('SIGKILL'));
    expect(gw.received.length).toBeGreaterThan(20);
    expect(await gw.missingFromLog()).toEqual([]);
    const v = await verifyFileAudit(gw.dataDir);
    expect(v.ok, JSON.stringify(v.firstBad)).toBe(true);

    gateway = await gw.start();
    try {
      const res = await fetch(gw.url, { method: 'POST', headers: gw.headers, body: QUERY });
      expect(res.status).toBe(200);
      const after = await verifyFileAudit(gw.dataDir);
      expect(after.ok).toBe(true);
      expect(after.records).toBeGreaterThan(v.records);
    } finally {
      gateway.kill('SIGTERM');
    }
  }, 90_000);

  it('on SIGTERM exits with code 0, having logged every response it sent, with no torn line', async () => {
    const gw = await gatewayUnderTest('sigterm');
    const gateway = await gw.start();
    const exited = new Promise<number | string | null>((resolve) => {
      gateway.once('exit', (code) => resolve(code));
      setTimeout(() => resolve('still running 10 s after SIGTERM'), 11_000).unref();
    });
    await gw.load(40, () => gateway.kill('SIGTERM'));
    const code = await exited;
    if (code !== 0) gateway.kill('SIGKILL');
    expect(code).toBe(0);
    expect(gw.received.length).toBeGreaterThan(10);
    expect(await gw.missingFromLog()).toEqual([]);
    const v = await verifyFileAudit(gw.dataDir);
    expect(v.ok, JSON.stringify(v.firstBad)).toBe(true);
    expect(v.notes).toEqual([]);
  }, 90_000);
});
