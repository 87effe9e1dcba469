import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig } from '../gateway/config.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { signToken } from '../gateway/identity/token.ts';

/**
 * One gateway alone under the bench's joined-query load, for finding per-request work:
 *   npx tsx bench/profile.ts [--role governed|governed-no-audit|bare|hive|apollo-default] [--duration 10] [--cpu-prof <dir>]
 * Prints requests/s and the gateway's CPU microseconds per request; with --cpu-prof, writes the
 * V8 profile and prints the functions with the most self time while it was busy.
 */
const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'governed' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    'cpu-prof': { type: 'string' },
  },
});
const ROOT = path.resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-profile-'));
const baseEnv: Record<string, string> = {
  ...(process.env as Record<string, string>),
  DATA_DIR: path.join(tmp, 'data'),
  POLICY_DIR: path.join(ROOT, 'policies'),
  SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'),
  PORT: '0',
  // The load is one agency's requests at full speed: its cost budget would refuse most of them.
  COST_BUDGET_PER_MINUTE: 'off',
};

function start(role: string, env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'bench/processes.ts'), role], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, info: JSON.parse(line) as Record<string, unknown> }));
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

function cpuOf(child: ChildProcess): Promise<NodeJS.CpuUsage> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpu: NodeJS.CpuUsage }) => resolve(m.cpu));
    child.send('cpu');
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

/** Self time per function over the busy samples (idle, program and GC shown apart). */
function topSelf(file: string, n: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i]!)!.callFrame;
    if (cf.functionName === '(idle)') continue;
    const dt = p.timeDeltas[i] ?? 0;
    busy += dt;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(`file://${ROOT}/`, '')}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `${((100 * t) / busy).toFixed(1).padStart(5)} %  ${k}`);
}

const config = loadConfig(baseEnv);
const token = signToken(verificationKey(config), { agency: 'tax', ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
const sub = await start('subgraphs', baseEnv);
const urlEnv: Record<string, string> = {};
for (const [name, url] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = url;
const profDir = args['cpu-prof'] === undefined ? null : path.resolve(args['cpu-prof']);
const gw = await start(args.role, { ...baseEnv, ...urlEnv }, profDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
const governed = args.role.startsWith('governed');
const request = {
  url: gw.info['url'] as string,
  method: 'POST' as const,
  body: JSON.stringify({
    query: 'query Joined($u: USCC!) { enterprise(uscc: $u) { name legalRepresentative status taxpayerStatus insuredEmployees dischargePermit { number validUntil } } }',
    variables: { u: '91445202MA4W3K7PX2' },
  }),
  headers: { 'content-type': 'application/json', ...(governed ? { authorization: `Bearer ${token}`, 'x-purpose': 'tax-collection' } : {}) },
  connections: Number(args.connections),
};
await autocannon({ ...request, duration: 3 });
const before = await cpuOf(gw.child);
const r = await autocannon({ ...request, duration: Number(args.duration) });
const after = await cpuOf(gw.child);
await stop(gw.child);
await stop(sub.child);
const per = (f: (c: NodeJS.CpuUsage) => number): number => Math.round((f(after) - f(before)) / r.requests.total);
console.log(
  `${args.role}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, ` +
    `${per((c) => c.user + c.system)} \u00b5s gateway CPU per request (user ${per((c) => c.user)}, system ${per((c) => c.system)})`,
);
if (profDir !== null) {
  const main = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f)).sort().at(-2) ?? '';
  if (main !== '') for (const line of topSelf(main, 25)) console.log(line);
}
rmSync(tmp, { recursive: true, force: true });
