import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileRecords } from '../../gateway/audit/file-store.ts';
import { verifyFileStore } from '../../gateway/audit/verify.ts';
import { loadConfig } from '../../gateway/config.ts';
import { verificationKey } from '../../gateway/identity/keys.ts';
import { signToken } from '../../gateway/identity/token.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { SUBGRAPHS } from '../../subgraphs/registry.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/shared/server.ts';
import { subgraphSecret } from '../../subgraphs/shared/trust.ts';
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
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('gateway at ')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
}

describe('kill -9 under load', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-crash-'));
  const subgraphs: RunningSubgraph[] = [];
  afterAll(async () => {
    for (const s of subgraphs) await s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every response a client received has its records in the log, the chain verifies, and a restart continues it', async () => {
    const dataDir = path.join(tmp, 'data');
    const base = { DATA_DIR: dataDir, POLICY_DIR: path.join(ROOT, 'policies'), SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'), INSTANCE_ID: 'gw-crash' };
    const config = loadConfig({ ...base, PORT: '0' });
    const secret = subgraphSecret(null, dataDir);
    const env: Record<string, string> = { ...base };
    for (const info of SUBGRAPHS) {
      const s = await startSubgraphServer(await loadSubgraph(info.name, { dataDir, redisUrl: null, redisPrefix: 'x:', supergraphPath: config.supergraphPath }), { host: '127.0.0.1', port: 0, secret });
      subgraphs.push(s);
      env[`SUBGRAPH_URL_${info.name.toUpperCase()}`] = s.url;
    }
    const port = await freePort();
    let gateway = await startGatewayProcess({ ...env, PORT: String(port) });
    const token = signToken(verificationKey(config), { agency: 'tax', ttlSeconds: 600 }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
    const url = `http://127.0.0.1:${port}/graphql`;
    const body = JSON.stringify({ query: '{ enterprise(uscc: "91445202MA4W3K7PX2") { name taxpayerStatus insuredEmployees } }' });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'tax-collection' };

    const received: string[] = [];
    let stop = false;
    const worker = async (): Promise<void> => {
      while (!stop) {
        try {
          const res = await fetch(url, { method: 'POST', headers, body });
          await res.text();
          if (res.status === 200) received.push(res.headers.get('x-request-id')!);
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 1500));
    gateway.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    expect(received.length).toBeGreaterThan(20);

    const logged = new Set(readFileRecords(path.join(dataDir, 'audit')).map((r) => r.requestId));
    const missing = received.filter((id) => !logged.has(id));
    expect(missing).toEqual([]);
    const v = verifyFileStore(dataDir);
    expect(v.ok, JSON.stringify(v.firstBad)).toBe(true);

    gateway = await startGatewayProcess({ ...env, PORT: String(port) });
    try {
      const res = await fetch(url, { method: 'POST', headers, body });
      expect(res.status).toBe(200);
      const after = verifyFileStore(dataDir);
      expect(after.ok).toBe(true);
      expect(after.records).toBeGreaterThan(v.records);
    } finally {
      gateway.kill('SIGTERM');
    }
  });
});
