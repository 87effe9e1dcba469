import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { developmentIdentityKeys } from '../../common/trust-keys.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { SUBGRAPHS } from '../../subgraphs/registry.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { ROOT } from '../helpers/root.ts';
import { freePort, startNode, startRedis, until, type Child } from './processes.ts';

/**
 * The access log under faults, as an auditor checks it afterwards with `npm run audit -- verify`:
 * a Redis that stalls must not make an intact chain look broken, and a log cut at its end or
 * edited by one byte must not look intact.
 */
const QUERY = JSON.stringify({ query: '{ enterprise(uscc: "91445202MA4W3K7PX2") { name taxpayerStatus } }' });
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-audit-faults-'));
const jwtSecret = randomBytes(32).toString('hex');
const base: Record<string, string> = { POLICY_DIR: path.join(ROOT, 'policies'), SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'), JWT_SECRET: jwtSecret, NODE_ENV: 'production', REDIS_URL: '' };
const subgraphs: RunningSubgraph[] = [];
const children: Child[] = [];
const headers = (): Record<string, string> => ({
  'content-type': 'application/json',
  authorization: `Bearer ${jwt.sign({ agency: 'tax', roles: [] }, jwtSecret, { algorithm: 'HS256', issuer: 'exchange', audience: 'exchange-gateway', subject: 'tax-tester', expiresIn: 600 })}`,
});

beforeAll(async () => {
  const keys = developmentIdentityKeys(path.join(tmp, 'subgraphs'));
  base.GATEWAY_SIGNING_KEY = keys.privateKeyPem;
  for (const info of SUBGRAPHS) {
    const s = await startSubgraphServer(await loadSubgraph(info.name, { dataDir: path.join(tmp, 'subgraphs'), redisUrl: null, redisPrefix: 'x:', supergraphPath: base.SUPERGRAPH_PATH! }), { host: '127.0.0.1', port: 0, gatewayPublicKey: keys.publicKeyPem });
    subgraphs.push(s);
    base[`SUBGRAPH_URL_${info.name.toUpperCase()}`] = s.url;
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const s of subgraphs) await s.close();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

async function gateway(name: string, extra: Record<string, string> = {}): Promise<{ child: Child; url: string; env: Record<string, string> }> {
  const port = await freePort();
  const env = { ...base, DATA_DIR: path.join(tmp, name), INSTANCE_ID: name, PORT: String(port), ...extra };
  const child = await startNode('bin/gateway.ts', [], env, /gateway at http/);
  children.push(child);
  return { child, url: `http://127.0.0.1:${port}/graphql`, env };
}

function auditVerify(env: Record<string, string>): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/audit.ts', 'verify'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the access log under faults, checked by audit verify', () => {
  it('Redis stalled (SIGSTOP) under load and resumed: requests fail closed meanwhile, and verify finds the chain intact', async () => {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    children.push(redis);
    const gw = await gateway('stall', { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_PREFIX: 'stall:' });
    const statuses: number[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        const res = await fetch(gw.url, { method: 'POST', headers: headers(), body: QUERY }).catch(() => null);
        if (res !== null) {
          await res.text();
          statuses.push(res.status);
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await until(async () => statuses.filter((s) => s === 200).length >= 20, 'answers before the stall');
    redis.process.kill('SIGSTOP');
    await until(async () => statuses.includes(503), 'a request to fail closed during the stall');
    redis.process.kill('SIGCONT');
    const before = statuses.length;
    await until(async () => statuses.slice(before).filter((s) => s === 200).length >= 20, 'answers after the stall');
    stop = true;
    await Promise.all(clients);
    await gw.child.stop();
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const v = auditVerify(gw.env);
    expect(v.status, v.out).toBe(0);
    expect(v.out).toMatch(/audit log intact: \d+ record\(s\)/);
  }, 120_000);

  it('a log cut at its end, or edited by one byte, fails verify naming what is wrong', async () => {
    const gw = await gateway('cut');
    for (let i = 0; i < 5; i++) expect((await fetch(gw.url, { method: 'POST', headers: headers(), body: QUERY })).status).toBe(200);
    await gw.child.stop(); // writes the witness
    expect(auditVerify(gw.env).status).toBe(0);

    const dir = path.join(gw.env.DATA_DIR!, 'audit', 'cut');
    const segment = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
    const original = readFileSync(segment, 'utf8');
    const lines = original.trimEnd().split('\n');
    writeFileSync(segment, `${lines.slice(0, lines.length - 3).join('\n')}\n`);
    const cut = auditVerify(gw.env);
    expect(cut.status).toBe(1);
    expect(cut.out).toMatch(/audit log BROKEN .*records \d+\.\.\d+ are missing: the witness signed at/);

    // One byte of the first record: its agency "tax" becomes "tXx".
    const at = original.indexOf('"agency":"tax"') + '"agency":"t'.length;
    writeFileSync(segment, `${original.slice(0, at)}X${original.slice(at + 1)}`);
    const edited = auditVerify(gw.env);
    expect(edited.status).toBe(1);
    expect(edited.out).toMatch(/audit log BROKEN at audit\/cut\/000001\.jsonl:1 .*edited/);
  }, 120_000);
});
