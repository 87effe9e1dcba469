import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySigner, signIdentity, type ForwardedIdentity } from '../../common/trust.ts';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { postGraphQL, ROOT, startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';
import { registry } from './proposal.ts';

/**
 * An agency's own subgraph joins the exchange (docs/joining.md). The service under
 * test/fixtures/foreign-subgraph/ is plain JavaScript on public packages, run with `node` as its
 * agency would run it; nothing of this repository is imported there.
 */
const FIXTURE = path.join(ROOT, 'test/fixtures/foreign-subgraph');
const SDL = readFileSync(path.join(FIXTURE, 'schema.graphql'), 'utf8');
const ENT = '91445202315608740C';
const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Enterprise { investmentProjects { code procedure } } } }';
const CALLER: ForwardedIdentity = { sub: 'eeb-clerk', agency: 'eeb', roles: [], purpose: 'environmental-enforcement' };

interface Running {
  readonly url: string;
  stop(): Promise<void>;
}

function keyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Starts the agency's service with `node`, as its operator would, and waits for its `listening <url>` line. */
async function startForeign(gatewayPublicKey: string): Promise<Running> {
  const child: ChildProcess = spawn(process.execPath, [path.join(FIXTURE, 'server.mjs')], {
    cwd: FIXTURE,
    env: { PATH: process.env['PATH'] ?? '', GATEWAY_PUBLIC_KEY: gatewayPublicKey, SUBGRAPH_NAME: 'drc', PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the foreign subgraph exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (\S+)$/.exec(line);
      if (m !== null) resolve(m[1]!);
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function post(url: string, body: unknown, identity?: string): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(identity === undefined ? {} : { 'x-exchange-identity': identity }) }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as never };
}

describe('a subgraph written without this project', () => {
  const gateway = keyPair();
  let foreign: Running;
  beforeAll(async () => {
    foreign = await startForeign(gateway.publicKeyPem);
  });
  afterAll(async () => {
    await foreign.stop();
  });

  it('imports nothing of this repository: only node built-ins and packages the project declares', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const file of readdirSync(FIXTURE).filter((f) => /\.(m?js|ts)$/.test(f))) {
      const imports = [...readFileSync(path.join(FIXTURE, file), 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) {
        const declared = spec.startsWith('node:') || Object.hasOwn(pkg.dependencies, spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        expect(declared, `${file} imports ${spec}`).toBe(true);
      }
    }
  });

  it('refuses a request without the gateway identity with 401 UNAUTHENTICATED', async () => {
    const res = await post(foreign.url, { query: '{ _service { sdl } }' });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(res.body.data).toBeUndefined();
  });

  it('refuses an identity signed by another key, addressed to another subgraph, expired, or bound to another operation', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = await signIdentity(keyPair().privateKeyPem, CALLER, 'drc');
    const forAmr = await signIdentity(gateway.privateKeyPem, CALLER, 'amr');
    const expired = await signIdentity(gateway.privateKeyPem, CALLER, 'drc', now - 600);
    const otherOperation = await identitySigner(gateway.privateKeyPem)(CALLER, 'drc', '{ __typename }');
    for (const identity of [forged, forAmr, expired, otherOperation, 'not.a.token']) {
      const res = await post(foreign.url, { query: '{ _service { sdl } }' }, identity);
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    }
  });

  it('answers _service { sdl } and _entities to an identity the gateway key signed for it', async () => {
    const service = await post(foreign.url, { query: '{ _service { sdl } }' }, await signIdentity(gateway.privateKeyPem, CALLER, 'drc'));
    expect(service.status).toBe(200);
    expect((service.body.data?.['_service'] as { sdl: string }).sdl).toContain('@dataset(id: "drc.investment-projects", class: "UNCONDITIONAL")');

    // Bound to the very operation it carries, as the gateway signs its fetches.
    const bound = await identitySigner(gateway.privateKeyPem)(CALLER, 'drc', ENTITIES);
    const entities = await post(foreign.url, { query: ENTITIES, variables: { r: [{ __typename: 'Enterprise', uscc: ENT }, { __typename: 'Enterprise', uscc: '914452026981234500' }] } }, bound);
    expect(entities.status).toBe(200);
    expect(entities.body).toEqual({
      data: { _entities: [{ investmentProjects: [{ code: '2503-445202-04-02-550917', procedure: 'APPROVED' }, { code: '2601-445202-04-01-104455', procedure: 'FILED' }] }, { investmentProjects: [] }] },
    });
  });

  it('answers the health check without an identity', async () => {
    const res = await fetch(foreign.url.replace(/\/graphql$/, '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', subgraph: 'drc' });
  });
});

describe('a foreign subgraph composed with the reference ones, behind the real gateway', () => {
  const keys = keyPair();
  let foreign: Running;
  let ex: Exchange;
  let dir: string;
  let gatewayUrl: string;
  beforeAll(async () => {
    foreign = await startForeign(keys.publicKeyPem);
    const composed = compose([...referenceSubgraphs(ROOT), { name: 'drc', agency: 'drc', url: foreign.url, sdl: SDL }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    dir = mkdtempSync(path.join(tmpdir(), 'foreign-subgraph-'));
    writeFileSync(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
    ex = await startExchange({ env: { GATEWAY_SIGNING_KEY: keys.privateKeyPem, GATEWAY_PUBLIC_KEY: keys.publicKeyPem, JWT_SECRET: 'foreign-subgraph-test-secret-of-32-bytes' } });
    // A gateway of its own (its own DATA_DIR, so no published version overrides the file) on the
    // composed supergraph, in front of the reference exchange's subgraphs and the foreign one.
    gatewayUrl = (await ex.startAnotherGateway({ DATA_DIR: path.join(dir, 'data'), SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'), INSTANCE_ID: 'with-drc' })).url;
  });
  afterAll(async () => {
    await ex?.close();
    await foreign?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("joins one query: amr's registration and drc's investment projects of one enterprise, under the gateway's identity", async () => {
    const res = await postGraphQL(gatewayUrl, `{ enterprise(uscc: "${ENT}") { name investmentProjects { code name totalInvestment procedure decidedOn } } }`, { agency: 'eeb' }, ex.token);
    expect(res.body.errors).toBeUndefined();
    const e = res.body.data?.['enterprise'] as { name: string; investmentProjects: { code: string }[] };
    expect(e.name).toEqual(expect.any(String));
    expect(e.investmentProjects.map((p) => p.code)).toEqual(['2503-445202-04-02-550917', '2601-445202-04-01-104455']);
  });

  it('reports it reachable on /health, probed with the gateway identity', async () => {
    const res = await fetch(gatewayUrl.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${ex.token('itd', ['coordinator'])}` } });
    const health = (await res.json()) as { subgraphs?: Record<string, { reachable: boolean }> };
    expect(health.subgraphs?.['drc']).toMatchObject({ reachable: true });
  });
});

describe('a foreign subgraph joins through the registry: npm run registry -- check, propose, approve; then read through the gateway', () => {
  const keys = keyPair();
  let foreign: Running;
  let ex: Exchange;
  beforeAll(async () => {
    foreign = await startForeign(keys.publicKeyPem);
    ex = await startExchange({ env: { GATEWAY_SIGNING_KEY: keys.privateKeyPem, GATEWAY_PUBLIC_KEY: keys.publicKeyPem } });
  });
  afterAll(async () => {
    await ex?.close();
    await foreign?.stop();
  });
  const ok = <T,>(res: GraphQLResponse, field: string): T => {
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    return res.body.data?.[field] as T;
  };

  it('is read through the gateway once the authority approves its proposal, and the demand it answers follows the proposal', async () => {
    const read = () => ex.query(`{ enterprise(uscc: "${ENT}") { investmentProjects { code } } }`, { agency: 'eeb' });
    expect((await read()).body.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    const asked = ok<{ id: string }>(
      await ex.query('mutation { requestUncatalogued(provider: "drc", data: "企业投资项目", purpose: "environmental-enforcement", legalBasis: "R-11", justification: "环评核查") { id } }', { agency: 'eeb' }),
      'requestUncatalogued',
    );

    // Exactly the commands of docs/joining.md, on the fixture's own files.
    const proposal = ['--subgraph', 'drc', '--url', foreign.url, '--schema', path.join(FIXTURE, 'schema.graphql'), '--catalog', path.join(FIXTURE, 'datasets.json')];
    const dataDir = ex.config.dataDir;
    const checked = await registry(dataDir, ['check', ...proposal, '--token', ex.token('drc')]);
    expect(checked.status, checked.out).toBe(0);
    const proposed = await registry(dataDir, ['propose', ...proposal, '--note', `catalogs ${asked.id}`, '--token', ex.token('drc')]);
    expect(proposed.status, proposed.out).toBe(0);
    const id = proposed.stdout.trimEnd().split('\n').at(-1)!;
    expect(id).toMatch(/^pr-\d+$/);
    ok(await ex.query('mutation($id: ID!, $p: String) { answerDemand(id: $id, willCatalog: true, answer: "见子图提案", proposal: $p) { id } }', { agency: 'drc', variables: { id: asked.id, p: id } }), 'answerDemand');

    const approved = await registry(dataDir, ['approve', id, '--reasons', '目录与子图核对无误', '--token', ex.token('itd', ['coordinator'])]);
    expect(approved.status, approved.out).toBe(0);

    const res = await answerWhen(read, (r) => r.body.errors === undefined);
    expect(res.body.data).toEqual({ enterprise: { investmentProjects: [{ code: '2503-445202-04-02-550917' }, { code: '2601-445202-04-01-104455' }] } });
    const demands = ok<{ items: { id: string; proposal: string | null; proposalStatus: string | null }[] }>(await ex.query('{ demands { items { id proposal proposalStatus } } }', { agency: 'eeb' }), 'demands');
    expect(demands.items.find((d) => d.id === asked.id)).toEqual({ id: asked.id, proposal: id, proposalStatus: 'APPROVED' });
  });
});
