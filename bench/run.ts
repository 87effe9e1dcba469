import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { loadConfig } from '../gateway/config.ts';
import { openArchivePool } from '../ledger/archive/pool.ts';
import { ensureSchema } from '../ledger/archive/schema.ts';
import { fileLogReader } from '../ledger/log/file-log.ts';
import { analyze, entityHistory, ingestionRate, percentile, quarterStatistics, seededCount, seedHistory } from '../cli/archive-measure.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { signToken } from '../gateway/identity/token.ts';
import { ENTERPRISE_KEYS } from '../subgraphs/kit/synthetic.ts';
import { backupAndRestore, BENCH_BACKUP_KEY, type Throughput } from './backup.ts';
import type { MicroResult } from './micro.ts';
import { printOversightBench, runOversightBench } from './oversight.ts';
import { printRegistryBench, registryBench } from './registry-check.ts';
import { printPublishBench, runPublishBench } from './registry-publish.ts';

/**
 * npm run bench: what governance costs, measured against the gateways users would pick instead
 * (Apollo's default setup, the project's tuned bare @apollo/gateway, Hive Gateway's runtime) over
 * the same subgraphs and supergraph, each in its own process, in alternated rounds on loopback,
 * with each gateway's CPU time per request. Prints a table and writes bench/results.json.
 *   npm run bench [-- --rounds 3 --duration 10 --quick --profile <dir>]
 *   npm run bench -- soak [--minutes 10]      the governed gateway's RSS under load
 *   npm run bench -- backup [--rounds 3]      backup and restore throughput, req/s with backups running vs without
 *   npm run bench -- background [--rounds 3]  req/s with audit off, with ARCHIVE_URL, with backups running, against governed
 *   npm run bench -- oversight [--records N]  usage statistics over N (10 million) access records, and their cost per request
 *   npm run bench -- archive [--records 10000000] [--samples 200] [--rounds 3] the PostgreSQL archive (see below)
 *   npm run bench -- registry [--records 10000000] [--samples 200] [--rounds 3 --duration 10]  the check of a subgraph proposal
 *                                             against an archive of N records, and req/s through a supergraph publish against steady state
 */
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    minutes: { type: 'string', default: '10' },
    /** Write a V8 CPU profile of the governed gateway (node --cpu-prof) into this directory. */
    profile: { type: 'string' },
    /** Only the joined-query rounds (and the profile): no fixed-rate, mixed, batch, Redis or micro scenarios. */
    quick: { type: 'boolean', default: false },
    /** oversight and archive modes: the generated history's size; archive: entity keys sampled, records for the ingestion rate. */
    records: { type: 'string', default: '10000000' },
    samples: { type: 'string', default: '200' },
    ingest: { type: 'string', default: '100000' },
  },
});
const MODE = positionals[0] ?? 'run';
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);
/** Turns each gateway takes at the joined query, alternating. */
const ROUNDS = Number(args.rounds);
const ROOT = path.resolve(import.meta.dirname, '..');
const REDIS_URL = 'redis://127.0.0.1:6379';

const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-bench-'));
const baseEnv: Record<string, string> = {
  ...(process.env as Record<string, string>),
  DATA_DIR: path.join(tmp, 'data'),
  POLICY_DIR: path.join(ROOT, 'policies'),
  SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'),
  PORT: '0',
  // The load is one agency's requests at full speed: its cost budget would refuse most of them.
  COST_BUDGET_PER_MINUTE: 'off',
};
const children: ChildProcess[] = [];

/** A DATA_DIR of its own holding the bench's keys, so tokens and the identity header verify as in the shared one. */
function dataDirWithKeys(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(baseEnv['DATA_DIR']!, 'keys'), path.join(dir, 'keys'), { recursive: true });
  return dir;
}

function startProcess(role: string, env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'bench/processes.ts'), role], { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, info: JSON.parse(line) as Record<string, unknown> }));
    child.once('exit', (code) => reject(new Error(`${role} process exited with ${code}`)));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

interface LoadResult {
  readonly scenario: string;
  readonly requestsPerSecond: number;
  /** Requests answered in the measured window. */
  readonly requests?: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Gateway CPU time (user + system, process.cpuUsage()) over the measured window, per request. */
  readonly cpuMicrosPerRequest?: number;
  /** The subgraphs process's CPU time over the same window (and its settling), per request. */
  readonly subgraphCpuMicrosPerRequest?: number;
  readonly subgraphRequestsPerQuery?: Record<string, number>;
  /** requests/s of each run the median was taken over */
  readonly runs?: readonly number[];
}

/** A gateway process's CPU time so far, in microseconds (asked over IPC). */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: { cpu: NodeJS.CpuUsage }) => resolve(m.cpu.user + m.cpu.system));
    // A process that died has no channel: the run fails with that, and the runner stops the others.
    child.send('cpu', (e) => {
      if (e !== null) reject(new Error(`a bench process is gone (${e.message})`));
    });
  });
}

/**
 * One load run after a warm-up. `gateway`: its CPU per request is measured; `subgraphs`: so is that
 * process's, after `settle` (work the load left behind, such as records still to count) is done.
 */
async function load(name: string, url: string, body: string, headers: Record<string, string>, opts: { rate?: number; duration?: number; gateway?: ChildProcess; subgraphs?: ChildProcess; settle?: () => Promise<void> } = {}): Promise<LoadResult> {
  const request = { url, method: 'POST' as const, body, headers: { 'content-type': 'application/json', ...headers }, connections: CONNECTIONS };
  await autocannon({ ...request, duration: WARMUP });
  const cpu0 = opts.gateway !== undefined ? await cpuOf(opts.gateway) : 0;
  const sub0 = opts.subgraphs !== undefined ? await cpuOf(opts.subgraphs) : 0;
  const r = await autocannon({ ...request, duration: opts.duration ?? DURATION, ...(opts.rate !== undefined ? { overallRate: opts.rate } : {}) });
  const cpu1 = opts.gateway !== undefined ? await cpuOf(opts.gateway) : 0;
  await opts.settle?.();
  const sub1 = opts.subgraphs !== undefined ? await cpuOf(opts.subgraphs) : 0;
  return {
    scenario: name,
    requestsPerSecond: Math.round(r.requests.average),
    requests: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    ...(opts.gateway !== undefined && r.requests.total > 0 ? { cpuMicrosPerRequest: Math.round((cpu1 - cpu0) / r.requests.total) } : {}),
    ...(opts.subgraphs !== undefined && r.requests.total > 0 ? { subgraphCpuMicrosPerRequest: Math.round((sub1 - sub0) / r.requests.total) } : {}),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Medians of the alternated runs; `runs` keeps each run's requests/s for the spread. */
function medianOf(scenario: string, runs: readonly LoadResult[]): LoadResult {
  const m = (f: (r: LoadResult) => number): number => Math.round(median(runs.map(f)));
  const cpu = runs.every((r) => r.cpuMicrosPerRequest !== undefined) ? { cpuMicrosPerRequest: m((r) => r.cpuMicrosPerRequest!) } : {};
  return { scenario, requestsPerSecond: m((r) => r.requestsPerSecond), p50: m((r) => r.p50), p99: m((r) => r.p99), errors: m((r) => r.errors), non2xx: m((r) => r.non2xx), ...cpu, runs: runs.map((r) => r.requestsPerSecond) };
}

/** A ratio of medians with the range of the same ratio taken round by round. */
interface Ratio {
  readonly value: number;
  readonly min: number;
  readonly max: number;
}

function ratioOf(a: readonly LoadResult[], b: readonly LoadResult[], f: (r: LoadResult) => number): Ratio {
  const perRound = a.map((r, i) => f(r) / f(b[i]!));
  return { value: median(a.map(f)) / median(b.map(f)), min: Math.min(...perRound), max: Math.max(...perRound) };
}

function showRatio(r: Ratio): string {
  return `${r.value.toFixed(2)}\u00d7 (rounds ${r.min.toFixed(2)}\u2013${r.max.toFixed(2)})`;
}

async function counts(statsUrl: string, reset: boolean): Promise<Record<string, number>> {
  const res = await fetch(statsUrl, { method: reset ? 'POST' : 'GET' });
  return (await res.json()) as Record<string, number>;
}

const JOINED = JSON.stringify({
  query: 'query Joined($u: USCC!) { enterprise(uscc: $u) { name legalRepresentative status taxpayerStatus insuredEmployees dischargePermit { number validUntil } } }',
  variables: { u: '91445202MA4W3K7PX2' },
});
const MIXED = JSON.stringify({
  query: 'query Mixed($u: USCC!) { enterprise(uscc: $u) { name status taxCreditGrade annualTaxPaid(year: 2024) dischargePermit { number } } }',
  variables: { u: '91445202MA4W3K7PX2' },
});
const BATCH = JSON.stringify({
  query: 'query Batch($k: [USCC!]!) { enterprises(uscc: $k) { name taxpayerStatus insuredEmployees dischargePermit { number } } }',
  variables: { k: ENTERPRISE_KEYS.slice(0, 100) },
});

type Proc = Awaited<ReturnType<typeof startProcess>>;
type Kind = 'apollo-default' | 'bare' | 'governed' | 'off' | 'hive' | 'fresh' | 'archive' | 'backup';

/**
 * One gateway's turn at the joined query. `gw`: started once, idle between its turns. `start`:
 * started for each turn and closed after it, for gateways whose background work (shipping,
 * backups) would otherwise run on during the other gateways' turns and slow those instead.
 */
interface Turn {
  readonly kind: Kind;
  readonly headers: Record<string, string>;
  readonly gw?: Proc;
  readonly start?: () => Promise<Proc>;
  /** Right after the turn's load, while its gateway still runs: what it did besides (a line for the log). */
  readonly after?: (gw: Proc, joined: Joined) => Promise<string>;
}

/** How far the archive was behind the log when a turn's load stopped, and how long it took to catch up. */
interface ArchiveCatchUp {
  readonly recordsLogged: number;
  readonly recordsBehind: number;
  readonly catchUpMs: number;
}

/** Backups a backup turn's gateway finished during the turn, and whether one was still being made at its end. */
interface BackupsInTurn {
  readonly made: number;
  readonly running: boolean;
}

type Joined = Record<Kind, LoadResult[]> & { backups: BackupsInTurn[]; archiveBehind: ArchiveCatchUp[] };

/** A PostgreSQL database of this run's own for the archive turns; null (and said) when PostgreSQL does not answer. */
async function benchArchive(): Promise<{ url: string; dataDir: string; drop: () => Promise<void> } | null> {
  const name = `bench_background_${process.pid}`;
  const admin = openArchivePool('postgres://postgres@127.0.0.1:5432/postgres', 1);
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (e) {
    process.stderr.write(`bench: no archive turns (PostgreSQL at 127.0.0.1:5432: ${(e as { code?: string }).code ?? (e as Error).message})\n`);
    await admin.end();
    return null;
  }
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    // A DATA_DIR of its own: the shipper follows every chain in the log, and the other gateways'
    // records would be a backlog to catch up on rather than the steady state being measured.
    dataDir: dataDirWithKeys('archive'),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
    },
  };
}

/**
 * The governed gateway with ARCHIVE_URL, and with backups running, each started for its turn; and
 * their baseline, the governed gateway started for its turn in the same way (a process as fresh,
 * its JIT as cold), so that the ratios compare like with like.
 */
function backgroundTurns(urlEnv: Record<string, string>, headers: Record<string, string>, archive: { url: string; dataDir: string } | null, healthHeaders: Record<string, string>): Turn[] {
  const fresh: Turn = { kind: 'fresh', headers, start: () => startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-fresh', DATA_DIR: freshDataDir() }) };
  const backup: Turn = {
    kind: 'backup',
    headers,
    // An interval of 1 s: a backup of the whole bench log is due again as soon as one is made, so one is always running.
    start: () => startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-backup', BACKUP_INTERVAL: '1s', BACKUP_KEY: BENCH_BACKUP_KEY, BACKUP_DIR: path.join(tmp, 'backups') }),
    after: async (gw, joined) => {
      const made = await backupsOf(gw.child);
      const health = (await (await fetch((gw.info['url'] as string).replace(/\/graphql$/, '/health'), { headers: healthHeaders })).json()) as { backup?: { running?: boolean } };
      const running = health.backup?.running === true;
      joined.backups.push({ made, running });
      return `, ${made} backup(s) made during the turn, ${running ? 'one still running at its end' : 'none running at its end'}`;
    },
  };
  if (archive === null) return [fresh, backup];
  const shipping: Turn = {
    kind: 'archive',
    headers,
    start: () => startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-archive', DATA_DIR: archive.dataDir, ARCHIVE_URL: archive.url }),
    after: async (_gw, joined) => {
      const c = await archiveCatchUp(archive.url, archive.dataDir);
      joined.archiveBehind.push(c);
      return `, archive ${c.recordsBehind} of ${c.recordsLogged} record(s) behind when the load stopped, caught up ${c.catchUpMs} ms later`;
    },
  };
  return [fresh, shipping, backup];
}

let freshDir: string | null = null;
/** The fresh baseline's DATA_DIR, like the archive turn's: one of its own, kept across its turns. */
function freshDataDir(): string {
  freshDir ??= dataDirWithKeys('fresh');
  return freshDir;
}

/** Headers of the authority's auditor, who sees /health's details. */
function auditor(key: ReturnType<typeof verificationKey>, config: ReturnType<typeof loadConfig>): Record<string, string> {
  return { authorization: `Bearer ${signToken(key, { agency: 'itd', roles: ['auditor'], ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience })}` };
}

/** The last seq of `chain` in a file log. */
async function logHead(dataDir: string, chain: string): Promise<number> {
  const reader = fileLogReader(dataDir, 'audit');
  let head = 0;
  try {
    for (;;) {
      const batch = await reader.read(chain, head, 100_000);
      if (batch.length === 0) return head;
      head = batch[batch.length - 1]!.seq;
    }
  } finally {
    await reader.close();
  }
}

/** After an archive turn's load: how many records the archive lacked, and the time until it had them all (at most 30 s). */
async function archiveCatchUp(url: string, dataDir: string): Promise<ArchiveCatchUp> {
  const pool = openArchivePool(url, 1);
  const archived = async (): Promise<number> => {
    try {
      return Number((await pool.query<{ seq: string }>(`SELECT seq FROM archive_chains WHERE log = 'audit' AND instance = 'bench-archive'`)).rows[0]?.seq ?? 0);
    } catch (e) {
      if ((e as { code?: string }).code === '42P01') return 0; // the shipper has not made its tables yet
      throw e;
    }
  };
  try {
    const logged = await logHead(dataDir, 'bench-archive');
    const t0 = performance.now();
    const behind = logged - (await archived());
    while (behind > 0 && (await archived()) < logged && performance.now() - t0 < 30_000) await new Promise((resolve) => setTimeout(resolve, 20));
    return { recordsLogged: logged, recordsBehind: behind, catchUpMs: behind > 0 ? Math.round(performance.now() - t0) : 0 };
  } finally {
    await pool.end();
  }
}

function backupsOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { backups: number }) => resolve(m.backups));
    child.send('backups');
  });
}

/** ROUNDS rounds, each gateway taking its turn in every round. */
async function rotate(turns: readonly Turn[]): Promise<Joined> {
  const joined: Joined = { 'apollo-default': [], bare: [], governed: [], off: [], hive: [], fresh: [], archive: [], backup: [], backups: [], archiveBehind: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of turns) {
        const gw = t.gw ?? (await t.start!());
        let note = '';
        try {
          const r = await load(t.kind, gw.info['url'] as string, JOINED, t.headers, { gateway: gw.child });
          if (t.after !== undefined) note = await t.after(gw, joined);
          process.stderr.write(`bench: round ${round + 1}/${ROUNDS} ${t.kind}: ${r.requestsPerSecond} req/s, p99 ${r.p99} ms, ${r.cpuMicrosPerRequest ?? '?'} \u00b5s CPU/req${note}\n`);
          if (r.errors > 0 || r.non2xx > 0) console.error(`bench: ${t.kind} answered ${r.non2xx} non-2xx and ${r.errors} errors in round ${round + 1}`);
          joined[t.kind].push(r);
        } finally {
          if (t.gw === undefined) await stopProcess(gw.child);
        }
      }
    }
  } finally {
    for (const t of turns) if (t.gw !== undefined) await stopProcess(t.gw.child);
  }
  return joined;
}

async function main(): Promise<void> {
  const config = loadConfig(baseEnv);
  const key = verificationKey(config);
  const token = (agency: string, roles: string[] = []): string => signToken(key, { agency, roles, ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  const tax = { authorization: `Bearer ${token('tax')}`, 'x-purpose': 'tax-collection' };
  const amr = { authorization: `Bearer ${token('amr')}`, 'x-purpose': 'market-supervision' };

  const sub = await startProcess('subgraphs', baseEnv);
  const statsUrl = sub.info['stats'] as string;
  const urlEnv: Record<string, string> = {};
  for (const [name, url] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = url;

  const results: LoadResult[] = [];
  const run = async (role: 'bare' | 'governed' | 'governed-no-audit', extraEnv: Record<string, string>, scenarios: (url: string) => Promise<void>): Promise<void> => {
    const gw = await startProcess(role, { ...baseEnv, ...urlEnv, ...extraEnv });
    try {
      await scenarios(gw.info['url'] as string);
    } finally {
      await stopProcess(gw.child);
    }
  };
  const batch = async (name: string, url: string, headers: Record<string, string>): Promise<void> => {
    const r = await load(name, url, BATCH, headers);
    // Let the last in-flight requests of the load finish before counting one query alone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await counts(statsUrl, true);
    const one = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BATCH });
    await one.text();
    const perQuery = Object.fromEntries(Object.entries(await counts(statsUrl, true)).filter(([, n]) => n > 0));
    results.push({ ...r, subgraphRequestsPerQuery: perQuery });
  };

  const redisPrefix = `bench:${process.pid}:`;
  const profileArgs = args.profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`] : [];
  let ratios: Targets | null;
  let backup: BackupFigures | null = null;
  let statistics: StatisticsCost | null = null;
  try {
    // On a 2-core machine shared with other work one run is at the mercy of the neighbours: the
    // gateways start once, each in its own process, and take turns ROUNDS times; medians count,
    // and every ratio is also shown round by round.
    const archive = await benchArchive();
    const turns: Turn[] = [
      { kind: 'apollo-default', gw: await startProcess('apollo-default', { ...baseEnv, ...urlEnv }), headers: {} },
      { kind: 'bare', gw: await startProcess('bare', { ...baseEnv, ...urlEnv }), headers: {} },
      { kind: 'governed', gw: await startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-file' }, profileArgs), headers: tax },
      { kind: 'off', gw: await startProcess('governed-no-audit', { ...baseEnv, ...urlEnv }), headers: tax },
      { kind: 'hive', gw: await startProcess('hive', { ...baseEnv, ...urlEnv }), headers: {} },
      ...backgroundTurns(urlEnv, tax, archive, { authorization: `Bearer ${token('itd', ['auditor'])}` }),
    ];
    let joined: Joined;
    try {
      joined = await rotate(turns);
    } finally {
      await archive?.drop();
    }
    results.push(medianOf(`1a default Apollo (@apollo/gateway + startStandaloneServer)`, joined['apollo-default']));
    results.push(medianOf(`1 tuned bare gateway`, joined.bare));
    results.push(medianOf(`2 governed, file audit`, joined.governed));
    results.push(medianOf(`2c governed, audit off`, joined.off));
    results.push(medianOf(`6 Hive Gateway runtime`, joined.hive));
    results.push(medianOf(`2f governed, started for each turn (baseline of 2d and 2e)`, joined.fresh));
    if (joined.archive.length > 0) results.push(medianOf(`2d governed, ARCHIVE_URL set (shipper in the background process)`, joined.archive));
    results.push(medianOf(`2e governed, backups running (BACKUP_INTERVAL 1s, in the background process)`, joined.backup));
    const rps = (r: LoadResult): number => r.requestsPerSecond;
    ratios = {
      governedVsBare: ratioOf(joined.governed, joined.bare, rps),
      governedVsHive: ratioOf(joined.governed, joined.hive, rps),
      governedVsOff: ratioOf(joined.governed, joined.off, rps),
      p99VsHive: ratioOf(joined.governed, joined.hive, (r) => r.p99),
      cpuVsBare: ratioOf(joined.governed, joined.bare, (r) => r.cpuMicrosPerRequest ?? NaN),
      archiveVsGoverned: joined.archive.length > 0 ? ratioOf(joined.archive, joined.fresh, rps) : null,
      backupVsGoverned: ratioOf(joined.backup, joined.fresh, rps),
      background: { backups: joined.backups, archiveBehind: joined.archiveBehind },
    };
    if (args.quick !== true) {
      const rate = Math.max(100, Math.round(find(results, '1 tuned').requestsPerSecond * 0.5));
      await run('bare', {}, async (url) => {
        results.push(await load(`1b bare at ${rate} req/s offered`, url, JOINED, {}, { rate }));
        await batch('5 enterprises(100 keys), bare', url, {});
      });
      await run('governed', { INSTANCE_ID: 'bench-file' }, async (url) => {
        results.push(await load(`2b governed at ${rate} req/s offered`, url, JOINED, tax, { rate }));
        results.push(await load('4 governed, denied fields mixed in', url, MIXED, amr));
        await batch('5 enterprises(100 keys), governed', url, tax);
      });
      // A DATA_DIR of its own: the witness of a Redis chain does not belong beside the file chains the backup scenario copies.
      await run('governed', { INSTANCE_ID: 'bench-redis', REDIS_URL, REDIS_PREFIX: redisPrefix, DATA_DIR: dataDirWithKeys('redis') }, async (url) => {
        results.push(await load('3 governed, Redis audit and grants', url, JOINED, tax));
      });
      statistics = await statisticsCost(sub.child, urlEnv, token);
      backup = await backupScenario();
    }
  } finally {
    for (const c of children) await stopProcess(c);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }

  if (args.quick === true) {
    report(results, null, ratios, null, null);
    rmSync(tmp, { recursive: true, force: true });
    return;
  }
  const micro = (await startProcess('micro', baseEnv)).info as unknown as MicroResult;
  report(results, micro, ratios, backup, statistics);
  rmSync(tmp, { recursive: true, force: true });
}

interface Targets {
  readonly governedVsBare: Ratio;
  readonly governedVsHive: Ratio;
  readonly governedVsOff: Ratio;
  readonly p99VsHive: Ratio;
  readonly cpuVsBare: Ratio;
  /** Governed with ARCHIVE_URL / without; null when the machine's PostgreSQL did not answer. */
  readonly archiveVsGoverned: Ratio | null;
  /** Governed while its background process makes backups / without BACKUP_INTERVAL. */
  readonly backupVsGoverned: Ratio;
  readonly background: { readonly backups: readonly BackupsInTurn[]; readonly archiveBehind: readonly ArchiveCatchUp[] };
}

function find(results: readonly LoadResult[], prefix: string): LoadResult {
  const r = results.find((x) => x.scenario.startsWith(prefix));
  if (r === undefined) throw new Error(`missing scenario ${prefix}`);
  return r;
}

/**
 * What the incremental usage statistics cost each request, end to end: two governed gateways over
 * the same subgraphs, one writing its access log where the exchange follows it (and counts every
 * record, as it does for every gateway the authority has asked about) and one writing where nothing
 * follows it, in alternated rounds. Each round's figure is the CPU time per request of the gateway
 * and the subgraphs process together, the exchange's counting of the round's records included (a
 * statistics question after each round waits until everything is counted; the same question is
 * asked after the other rounds). The cost is "not measurable" when the difference of the medians is
 * within the spread of the rounds.
 */
interface StatisticsCost {
  readonly followed: readonly LoadResult[];
  readonly unfollowed: readonly LoadResult[];
  /** Medians of the rounds' CPU µs per request, gateway and subgraphs together. */
  readonly followedMicros: number;
  readonly unfollowedMicros: number;
  /** The largest minus the smallest round on either side: the run-to-run noise. */
  readonly noiseMicros: number;
  readonly requestsRatio: Ratio;
  /** Reads the exchange counted during the followed rounds (their warm-ups included), and the requests of their measured windows. */
  readonly counted: number;
  readonly followedRequests: number;
}

const QUESTION = JSON.stringify({ query: 'query Q($f: String!, $t: String!) { usageStatistics(from: $f, to: $t, groupBy: [PROVIDER, CONSUMER, DATASET]) { allowed denied } }', variables: { f: '2020-01-01', t: '2100-12-31' } });

async function statisticsCost(sub: ChildProcess, urlEnv: Record<string, string>, token: (agency: string, roles?: string[]) => string): Promise<StatisticsCost> {
  const tax = { authorization: `Bearer ${token('tax')}`, 'x-purpose': 'tax-collection' };
  const coordinator = { 'content-type': 'application/json', authorization: `Bearer ${token('itd', ['coordinator'])}` };
  /** The reads the exchange has counted so far (every record of the followed gateway once it is followed). */
  const ask = async (url: string): Promise<number> => {
    const body = (await (await fetch(url, { method: 'POST', headers: coordinator, body: QUESTION })).json()) as { data?: { usageStatistics: { allowed: number; denied: number }[] }; errors?: { message: string }[] };
    if (body.errors !== undefined || body.data === undefined) throw new Error(`usageStatistics: ${body.errors?.[0]?.message ?? 'no data'}`);
    return body.data.usageStatistics.reduce((n, r) => n + r.allowed + r.denied, 0);
  };
  let counted = 0;
  let countedInRounds = 0;
  let followedRequests = 0;
  const followed = await startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-followed' });
  const unfollowed = await startProcess('governed', { ...baseEnv, ...urlEnv, DATA_DIR: dataDirWithKeys('unfollowed'), INSTANCE_ID: 'bench-unfollowed' });
  const runs: Record<'followed' | 'unfollowed', LoadResult[]> = { followed: [], unfollowed: [] };
  try {
    const followedUrl = followed.info['url'] as string;
    // Once the gateway has a chain, a question has the exchange follow it from then on.
    await (await fetch(followedUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...tax }, body: JOINED })).text();
    counted = await ask(followedUrl);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, gw] of [['unfollowed', unfollowed], ['followed', followed]] as const) {
        const url = gw.info['url'] as string;
        const settle = async (): Promise<void> => {
          const now = await ask(url);
          if (kind === 'followed') countedInRounds += now - counted;
          counted = now;
        };
        const r = await load(`statistics ${kind}`, url, JOINED, tax, { gateway: gw.child, subgraphs: sub, settle });
        if (kind === 'followed') followedRequests += r.requests ?? 0;
        process.stderr.write(`bench: statistics round ${round + 1}/${ROUNDS} ${kind}: ${r.requestsPerSecond} req/s, ${total(r)} \u00b5s CPU/req (gateway + subgraphs)\n`);
        runs[kind].push(r);
      }
    }
  } finally {
    await stopProcess(followed.child);
    await stopProcess(unfollowed.child);
  }
  const all = [...runs.followed, ...runs.unfollowed];
  const spread = (xs: readonly LoadResult[]): number => Math.max(...xs.map(total)) - Math.min(...xs.map(total));
  return {
    followed: runs.followed,
    unfollowed: runs.unfollowed,
    followedMicros: median(runs.followed.map(total)),
    unfollowedMicros: median(runs.unfollowed.map(total)),
    noiseMicros: all.length > 0 ? Math.max(spread(runs.followed), spread(runs.unfollowed)) : NaN,
    requestsRatio: ratioOf(runs.followed, runs.unfollowed, (r) => r.requestsPerSecond),
    counted: countedInRounds,
    followedRequests,
  };
}

/** CPU µs per request of the gateway and the subgraphs process together. */
function total(r: LoadResult): number {
  return (r.cpuMicrosPerRequest ?? NaN) + (r.subgraphCpuMicrosPerRequest ?? NaN);
}

function statisticsTarget(c: StatisticsCost): { what: string; figure: string; pass: boolean; target: string } {
  const added = c.followedMicros - c.unfollowedMicros;
  const rounds = (xs: readonly LoadResult[]): string => xs.map(total).join(', ');
  return {
    what: 'incremental statistics per request: CPU \u00b5s of gateway + subgraphs, log followed / not followed',
    figure: `${c.followedMicros} (${rounds(c.followed)}) / ${c.unfollowedMicros} (${rounds(c.unfollowed)}): ${added >= 0 ? '+' : ''}${added} \u00b5s against a spread of ${c.noiseMicros} \u00b5s between rounds; req/s ${showRatio(c.requestsRatio)}; ${c.counted.toLocaleString('en')} reads counted in the followed rounds (${c.followedRequests.toLocaleString('en')} requests measured)`,
    // Not measurable, and measured at all: the exchange did count the followed gateway's reads.
    pass: Math.abs(added) <= c.noiseMicros && c.counted >= c.followedRequests,
    target: c.followed.length < 2 ? 'within the rounds\' spread (needs --rounds 2 or more)' : 'within the rounds\' spread',
  };
}

interface BackupFigures {
  readonly alone: { readonly backup: Throughput; readonly restore: Throughput };
}

/**
 * Backups: a full archive of the bench's DATA_DIR (the access log every scenario above wrote) and
 * its restore, timed with nothing else running. Requests/s while backups run are measured in the
 * joined rounds (turn `backup`).
 */
async function backupScenario(): Promise<BackupFigures> {
  const source = { dataDir: baseEnv['DATA_DIR']!, policyDir: baseEnv['POLICY_DIR']!, redisUrl: null, redisPrefix: 'exchange:' };
  const alone = await backupAndRestore(source, path.join(tmp, 'backup-alone'));
  process.stderr.write(`bench: backup alone ${alone.backup.megabytesPerSecond.toFixed(1)} MB/s, restore ${alone.restore.megabytesPerSecond.toFixed(1)} MB/s (${alone.backup.records} records)\n`);
  return { alone };
}

function report(results: LoadResult[], micro: MicroResult | null, ratios: Targets | null, backup: BackupFigures | null, statistics: StatisticsCost | null): void {
  const targets: { what: string; figure: string; pass: boolean; target: string }[] = [];
  if (ratios !== null) {
    const governed = find(results, '2 governed');
    const bare = find(results, '1 tuned');
    const hive = find(results, '6 Hive');
    targets.push(
      { what: 'governed / tuned bare, requests/s', figure: showRatio(ratios.governedVsBare), pass: ratios.governedVsBare.value >= 1, target: '>= 1.0\u00d7' },
      { what: 'governed / Hive Gateway runtime, requests/s (first step)', figure: showRatio(ratios.governedVsHive), pass: ratios.governedVsHive.value >= 0.85, target: '>= 0.85\u00d7' },
      { what: 'governed / Hive Gateway runtime, requests/s (goal)', figure: showRatio(ratios.governedVsHive), pass: ratios.governedVsHive.value >= 1, target: '>= 1.0\u00d7' },
      { what: 'governed p99 / Hive p99 (ms)', figure: `${governed.p99} / ${hive.p99} = ${showRatio(ratios.p99VsHive)}`, pass: ratios.p99VsHive.value <= 1, target: '<= 1.0\u00d7' },
      { what: 'gateway CPU \u00b5s per request, governed / tuned bare', figure: `${governed.cpuMicrosPerRequest} / ${bare.cpuMicrosPerRequest} = ${showRatio(ratios.cpuVsBare)}`, pass: ratios.cpuVsBare.value <= 1, target: '<= 1.0\u00d7' },
      { what: 'audit cost: 1 - (audit on / audit off) requests/s', figure: `${((1 - ratios.governedVsOff.value) * 100).toFixed(1)} %`, pass: 1 - ratios.governedVsOff.value <= 0.1, target: '<= 10 %' },
      { what: `governed with ARCHIVE_URL / without, requests/s${ratios.background.archiveBehind.length > 0 ? ` (archive behind at the end of each turn: ${ratios.background.archiveBehind.map((c) => `${c.recordsBehind} records, caught up in ${c.catchUpMs} ms`).join('; ')})` : ''}`, figure: ratios.archiveVsGoverned === null ? 'not measured (no PostgreSQL)' : showRatio(ratios.archiveVsGoverned), pass: (ratios.archiveVsGoverned?.value ?? 0) >= 0.9, target: '>= 0.9\u00d7' },
      { what: `governed with backups running / without, requests/s (backups made per turn: ${ratios.background.backups.map((b) => `${b.made}${b.running ? '+1 running' : ''}`).join(', ')})`, figure: showRatio(ratios.backupVsGoverned), pass: ratios.backupVsGoverned.value >= 0.9 && ratios.background.backups.every((b) => b.made > 0 || b.running), target: '>= 0.9\u00d7' },
    );
  }
  if (micro !== null) {
    const bareRated = find(results, '1b');
    const governedRated = find(results, '2b');
    const p99Overhead = governedRated.p99 - bareRated.p99;
    const batchGoverned = find(results, '5 enterprises(100 keys), governed');
    const onePerSubgraph = Object.values(batchGoverned.subgraphRequestsPerQuery ?? {}).every((n) => n === 1);
    targets.push(
      { what: 'p99 overhead at the same offered load (ms)', figure: p99Overhead.toFixed(2), pass: p99Overhead <= 2, target: '<= 2 ms' },
      { what: 'subgraph requests per enterprises(100) query', figure: JSON.stringify(batchGoverned.subgraphRequestsPerQuery), pass: onePerSubgraph, target: '1 per subgraph' },
      { what: 'cached Casbin decisions per CPU second', figure: Math.round(micro.cachedDecisionsPerSecond).toLocaleString('en'), pass: micro.cachedDecisionsPerSecond >= 1_000_000, target: '>= 1,000,000' },
      { what: 'uncached Casbin decisions per CPU second, every caller and field (100,000 grant lines)', figure: Math.round(micro.coldDecisionsPerSecond).toLocaleString('en'), pass: micro.coldDecisionsPerSecond >= 100_000, target: '>= 100,000' },
      { what: 'uncached grant decisions per CPU second (100,000 grant lines)', figure: Math.round(micro.grantDecisionsPerSecond).toLocaleString('en'), pass: micro.grantDecisionsPerSecond >= 100_000, target: '>= 100,000' },
      { what: 'same decision, plain newEnforcer linear scan: ratio', figure: `${Math.round(micro.linearScanDecisionsPerSecond).toLocaleString('en')}/s, ${(micro.grantDecisionsPerSecond / micro.linearScanDecisionsPerSecond).toFixed(0)}x`, pass: true, target: '(reported)' },
      { what: 'policy load, 100,000 grant lines (ms)', figure: micro.reloadMs.toFixed(0), pass: micro.reloadMs < 1000, target: '< 1000 ms' },
      { what: 'durable audit records/s, file store', figure: Math.round(micro.auditRecordsPerSecond).toLocaleString('en'), pass: micro.auditRecordsPerSecond >= 50_000, target: '>= 50,000' },
      { what: 'durable ledger events/s, file (64 recorders)', figure: Math.round(micro.ledger.fileEventsPerSecond).toLocaleString('en'), pass: true, target: '(reported)' },
      { what: 'durable ledger events/s, Redis (64 recorders)', figure: micro.ledger.redisEventsPerSecond === null ? 'no Redis' : Math.round(micro.ledger.redisEventsPerSecond).toLocaleString('en'), pass: true, target: '(reported)' },
    );
    const o = micro.oversight;
    targets.push({ what: `usage statistics, one quarter's report over ${o.records.toLocaleString('en')} access records, p50 ms`, figure: o.queries[0]!.p50Ms.toFixed(1), pass: true, target: '(reported)' });
  }
  if (statistics !== null) targets.push(statisticsTarget(statistics));
  if (backup !== null) {
    const t = (x: Throughput): string => `${x.megabytesPerSecond.toFixed(1)} MB/s, ${Math.round(x.recordsPerSecond).toLocaleString('en')} records/s (${(x.bytes / 1e6).toFixed(1)} MB, ${x.records.toLocaleString('en')} records)`;
    targets.push(
      { what: 'full backup alone', figure: t(backup.alone.backup), pass: true, target: '(reported)' },
      { what: 'restore alone', figure: t(backup.alone.restore), pass: true, target: '(reported)' },
    );
  }
  console.log(`\nnode ${process.version}, ${cpus().length} CPUs, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternated rounds for the joined query (medians)\n`);
  console.log('| scenario | req/s | req/s per round | p50 ms | p99 ms | CPU \u00b5s/req | errors | non-2xx |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.scenario} | ${r.requestsPerSecond} | ${r.runs?.join(', ') ?? ''} | ${r.p50} | ${r.p99} | ${r.cpuMicrosPerRequest ?? ''} | ${r.errors} | ${r.non2xx} |`);
  console.log('\n| target | figure | goal | |');
  console.log('|---|---|---|---|');
  for (const t of targets) console.log(`| ${t.what} | ${t.figure} | ${t.target} | ${t.pass ? 'PASS' : 'MISS'} |`);
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const out = { at: new Date().toISOString(), node: process.version, cpus: cpus().length, commit, connections: CONNECTIONS, durationSeconds: DURATION, rounds: ROUNDS, scenarios: results, ratios, micro, backup, statistics, targets };
  writeFileSync(path.join(ROOT, 'bench/results.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('\nwrote bench/results.json');
}

/**
 * npm run bench -- backup: the governed gateway at the joined query in alternated rounds, without
 * and with backups running in its background process, then a backup and a restore alone
 * (figures printed, results.json left as it is).
 */
async function backupOnly(): Promise<void> {
  const config = loadConfig(baseEnv);
  const key = verificationKey(config);
  const tax = { authorization: `Bearer ${signToken(key, { agency: 'tax', ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience })}`, 'x-purpose': 'tax-collection' };
  const sub = await startProcess('subgraphs', baseEnv);
  const urlEnv: Record<string, string> = {};
  for (const [name, url] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = url;
  try {
    const joined = await rotate(backgroundTurns(urlEnv, tax, null, auditor(key, config)));
    const b = await backupScenario();
    const results = [medianOf('7a governed, no backup running', joined.fresh), medianOf('7b governed, backups running in its background process', joined.backup)];
    const t = (x: Throughput): string => `${x.megabytesPerSecond.toFixed(1)} MB/s, ${Math.round(x.recordsPerSecond).toLocaleString('en')} records/s (${(x.bytes / 1e6).toFixed(1)} MB, ${x.records.toLocaleString('en')} records, ${x.seconds.toFixed(2)} s)`;
    console.log(`\nnode ${process.version}, ${cpus().length} CPUs, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternated rounds\n`);
    console.log('| scenario | req/s | req/s per round | p50 ms | p99 ms | CPU \u00b5s/req |');
    console.log('|---|---:|---|---:|---:|---:|');
    for (const r of results) console.log(`| ${r.scenario} | ${r.requestsPerSecond} | ${r.runs?.join(', ') ?? ''} | ${r.p50} | ${r.p99} | ${r.cpuMicrosPerRequest ?? ''} |`);
    console.log(`\nfull backup alone: ${t(b.alone.backup)}\nrestore alone: ${t(b.alone.restore)}\nbackups made per turn: ${joined.backups.map((b) => `${b.made}${b.running ? '+1 running' : ''}`).join(', ')}\ngateway req/s with backups running / without: ${showRatio(ratioOf(joined.backup, joined.fresh, (r) => r.requestsPerSecond))}`);
  } finally {
    for (const c of children) await stopProcess(c);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * npm run bench -- background [--rounds 3]: only the turns that price the audit log and the
 * background process, in alternated rounds: governed, governed with audit off, governed with
 * ARCHIVE_URL, governed with backups running (results.json left as it is).
 */
async function backgroundOnly(): Promise<void> {
  const config = loadConfig(baseEnv);
  const key = verificationKey(config);
  const tax = { authorization: `Bearer ${signToken(key, { agency: 'tax', ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience })}`, 'x-purpose': 'tax-collection' };
  const sub = await startProcess('subgraphs', baseEnv);
  const urlEnv: Record<string, string> = {};
  for (const [name, url] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = url;
  const archive = await benchArchive();
  try {
    const joined = await rotate([
      { kind: 'governed', gw: await startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-file' }), headers: tax },
      { kind: 'off', gw: await startProcess('governed-no-audit', { ...baseEnv, ...urlEnv }), headers: tax },
      ...backgroundTurns(urlEnv, tax, archive, auditor(key, config)),
    ]);
    const rps = (r: LoadResult): number => r.requestsPerSecond;
    const results = [medianOf('2 governed, file audit', joined.governed), medianOf('2c governed, audit off', joined.off), medianOf('2f governed, started for each turn', joined.fresh), ...(joined.archive.length > 0 ? [medianOf('2d governed, ARCHIVE_URL set, started for each turn', joined.archive)] : []), medianOf('2e governed, backups running, started for each turn', joined.backup)];
    console.log(`\nnode ${process.version}, ${cpus().length} CPUs, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternated rounds\n`);
    console.log('| scenario | req/s | req/s per round | p50 ms | p99 ms | CPU \u00b5s/req |');
    console.log('|---|---:|---|---:|---:|---:|');
    for (const r of results) console.log(`| ${r.scenario} | ${r.requestsPerSecond} | ${r.runs?.join(', ') ?? ''} | ${r.p50} | ${r.p99} | ${r.cpuMicrosPerRequest ?? ''} |`);
    const off = ratioOf(joined.governed, joined.off, rps);
    console.log(`\naudit cost, 1 - (audit on / audit off) requests/s: ${((1 - off.value) * 100).toFixed(1)} % (on / off ${showRatio(off)})`);
    if (joined.archive.length > 0) console.log(`governed with ARCHIVE_URL / without (both started for each turn): ${showRatio(ratioOf(joined.archive, joined.fresh, rps))}; archive behind at the end of each turn: ${joined.archiveBehind.map((c) => `${c.recordsBehind} of ${c.recordsLogged} records, caught up in ${c.catchUpMs} ms`).join('; ')}`);
    console.log(`governed with backups running / without (both started for each turn): ${showRatio(ratioOf(joined.backup, joined.fresh, rps))}; backups made per turn: ${joined.backups.map((b) => `${b.made}${b.running ? '+1 running' : ''}`).join(', ')}`);
  } finally {
    await archive?.drop();
    for (const c of children) await stopProcess(c);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * npm run bench -- soak [--minutes 10]: the joined query at the bench's load against the governed
 * gateway for the whole time; its RSS after the first minute and at the end (target: within 10 %).
 */
async function soak(): Promise<void> {
  const minutes = Number(args.minutes);
  const config = loadConfig(baseEnv);
  const token = signToken(verificationKey(config), { agency: 'tax', ttlSeconds: 3600 * 24, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  const sub = await startProcess('subgraphs', baseEnv);
  const urlEnv: Record<string, string> = {};
  for (const [name, url] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = url;
  const gw = await startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-soak' });
  const rssOf = (): Promise<number> =>
    new Promise((resolve) => {
      gw.child.once('message', (m: { rss: number }) => resolve(m.rss));
      gw.child.send('mem');
    });
  const samples: { minute: number; rssMiB: number }[] = [];
  let minute = 0;
  const timer = setInterval(() => {
    minute++;
    const at = minute;
    rssOf().then(
      (rss) => {
        samples.push({ minute: at, rssMiB: Math.round((rss / 1048576) * 10) / 10 });
        console.log(`minute ${at}: governed gateway RSS ${(rss / 1048576).toFixed(1)} MiB`);
      },
      () => undefined,
    );
  }, 60_000);
  let r: autocannon.Result;
  try {
    r = await autocannon({
      url: gw.info['url'] as string,
      method: 'POST',
      body: JOINED,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'tax-collection' },
      connections: CONNECTIONS,
      duration: minutes * 60,
    });
  } finally {
    clearInterval(timer);
  }
  const end = await rssOf();
  for (const c of children) await stopProcess(c);
  rmSync(tmp, { recursive: true, force: true });
  const first = samples.find((s) => s.minute === 1)?.rssMiB ?? NaN;
  const last = Math.round((end / 1048576) * 10) / 10;
  const growth = last / first - 1;
  console.log(`\nsoak: ${minutes} min, ${CONNECTIONS} connections, ${Math.round(r.requests.average)} req/s, ${r.non2xx} non-2xx, ${r.errors} errors`);
  // The target is about growth (a leak): an RSS that ends lower than after the first minute passes.
  console.log('| RSS after minute 1 | RSS at the end | change | lowest / highest sample | goal | |');
  console.log('|---:|---:|---:|---|---|---|');
  const rss = samples.map((x) => x.rssMiB);
  console.log(`| ${first} MiB | ${last} MiB | ${(growth * 100).toFixed(1)} % | ${Math.min(...rss)} / ${Math.max(...rss)} MiB | at most +10 % | ${growth <= 0.1 ? 'PASS' : 'MISS'} |`);
  console.log(`samples (MiB): ${samples.map((s) => s.rssMiB).join(', ')}`);
}

/** npm run bench -- oversight [--records N]: the statistics over N generated records, then their cost per request end to end. */
async function oversight(): Promise<void> {
  try {
    printOversightBench(runOversightBench({ records: Number(args.records) }));
    const config = loadConfig(baseEnv);
    const key = verificationKey(config);
    const token = (agency: string, roles: string[] = []): string => signToken(key, { agency, roles, ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
    const sub = await startProcess('subgraphs', baseEnv);
    const urlEnv: Record<string, string> = {};
    for (const [name, u] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = u;
    const t = statisticsTarget(await statisticsCost(sub.child, urlEnv, token));
    console.log(`\n| target | figure | goal | |\n|---|---|---|---|\n| ${t.what} | ${t.figure} | ${t.target} | ${t.pass ? 'PASS' : 'MISS'} |`);
  } finally {
    for (const c of children) await stopProcess(c);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * npm run bench -- archive: the PostgreSQL archive on a seeded history of --records records
 * (default 10,000,000) in ARCHIVE_URL (default: database archive_bench on the local
 * PostgreSQL, created when missing and kept, so the seeding is paid once): the access history of
 * one entity key (p50, p99), one quarter's statistics for one agency, the ingestion rate of the
 * shipper's write path, and, under the joined query's load, the archive lag (how long a record is
 * in the log before it is in the archive) and the governed gateway's requests/s with the archive
 * against without it, in the same run. Results go to bench/archive-results.json.
 */
async function archiveBench(): Promise<void> {
  const records = Number(args.records);
  const samples = Number(args.samples);
  const url = process.env['ARCHIVE_URL'] ?? `postgres://postgres@127.0.0.1:5432/archive_bench`;
  const admin = (name: string): string => Object.assign(new URL(url), { pathname: `/${name}` }).toString();
  const dbName = new URL(url).pathname.slice(1);
  const lagDb = `${dbName}_lag_${process.pid}`;
  const createDb = async (name: string): Promise<void> => {
    const c = openArchivePool(admin('postgres'), 1);
    try {
      const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
  };
  await createDb(dbName);
  const pool = openArchivePool(url, 6);
  const out: Record<string, unknown> = { records };
  try {
    await ensureSchema(pool);
    const have = await seededCount(pool);
    if (have > records) throw new Error(`ARCHIVE_URL already holds ${have} seeded records, more than --records ${records}: use another database`);
    if (have < records) {
      console.log(`seeding ${records - have} record(s) (of ${records}) into ${dbName}; this is paid once`);
      const t = performance.now();
      const n = await seedHistory(pool, { total: records, chains: 4, spanDays: 365, entities: Math.max(1, Math.floor(records / 200)) });
      console.log(`seeded ${n} record(s) at ${Math.round(n / ((performance.now() - t) / 1000))} records/s (generation and hashing included)`);
      // Statistics for the planner over millions of rows take longer than the pool's query timeout.
      await analyze(url);
    }
    // Whatever seeding left for PostgreSQL to write back (gigabytes after a seeding) is written
    // now, not during the measurements (a superuser's right; without it the figures carry it).
    await pool.query('CHECKPOINT').catch(() => console.log('bench: CHECKPOINT refused (not a superuser); the figures may include write-back of earlier work'));
    const size = await pool.query<{ bytes: string; index: string; parts: string }>(`
      SELECT sum(pg_total_relation_size(c.oid)) AS bytes, sum(pg_indexes_size(c.oid)) AS index, count(*) AS parts
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'access_records'::regclass`);
    out['bytes'] = Number(size.rows[0]!.bytes);
    out['indexBytes'] = Number(size.rows[0]!.index);
    out['partitions'] = Number(size.rows[0]!.parts);
    out['entity'] = await entityHistory(pool, { samples, entities: Math.max(1, Math.floor(records / 200)) });
    out['quarter'] = await quarterStatistics(pool, { from: '2025-04-01', to: '2025-06-30', agency: 'tax' });
    // A round is a second or two of a shared machine: the median of --rounds of them, each shown.
    const rates: number[] = [];
    for (let i = 0; i < ROUNDS; i++) rates.push((await ingestionRate(url, { records: Number(args.ingest), chains: 4 })).perSecond);
    out['ingestion'] = { rounds: rates, perSecond: Math.round(median(rates)) };
  } finally {
    await pool.end();
  }

  // The archive lag under the governed load, on a database of its own (dropped afterwards).
  await createDb(lagDb);
  const lagUrl = admin(lagDb);
  // The baseline gateway and the subgraphs run without any archive, whatever ARCHIVE_URL this run was given.
  const plainEnv = Object.fromEntries(Object.entries(baseEnv).filter(([k]) => k !== 'ARCHIVE_URL'));
  const config = loadConfig(plainEnv);
  const token = signToken(verificationKey(config), { agency: 'tax', ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  const tax = { authorization: `Bearer ${token}`, 'x-purpose': 'tax-collection' };
  const sub = await startProcess('subgraphs', plainEnv);
  const urlEnv: Record<string, string> = {};
  for (const [name, u] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = u;
  const lagPool = openArchivePool(lagUrl, 1);
  try {
    // The archiving gateway runs first: after the baseline it would also ship the baseline's records
    // (every chain in the log is archived), hundreds of thousands of them, and the ratio would carry that catch-up.
    const chain = 'bench-archive';
    const gw = await startProcess('governed', { ...plainEnv, ...urlEnv, INSTANCE_ID: chain, ARCHIVE_URL: lagUrl });
    const reader = fileLogReader(baseEnv['DATA_DIR']!, 'audit');
    const seen: { seq: number; at: number }[] = [];
    const lags: number[] = [];
    let logHead = 0;
    let maxBehind = 0;
    let sampling = true;
    const sample = async (): Promise<void> => {
      while (sampling) {
        const now = performance.now();
        for (;;) {
          const batch = await reader.read(chain, logHead, 100_000);
          if (batch.length === 0) break;
          logHead = batch[batch.length - 1]!.seq;
        }
        if (seen.length === 0 || seen[seen.length - 1]!.seq < logHead) seen.push({ seq: logHead, at: now });
        let archived = 0;
        try {
          archived = Number((await lagPool.query<{ seq: string }>(`SELECT seq FROM archive_chains WHERE log = 'audit' AND instance = $1`, [chain])).rows[0]?.seq ?? 0);
        } catch {
          // the shipper has not made its tables yet
        }
        maxBehind = Math.max(maxBehind, logHead - archived);
        while (seen.length > 0 && seen[0]!.seq <= archived) lags.push(performance.now() - seen.shift()!.at);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const sampler = sample();
    const withArchive = await load('governed, archive shipping', gw.info['url'] as string, JOINED, tax, { gateway: gw.child });
    // The records of the last requests: wait until they are archived too (at most 30 s).
    for (let i = 0; i < 300 && seen.length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    sampling = false;
    await sampler;
    await reader.close();
    await stopProcess(gw.child);
    const without = await startProcess('governed', { ...plainEnv, ...urlEnv, INSTANCE_ID: 'bench-no-archive' });
    const base = await load('governed, no archive', without.info['url'] as string, JOINED, tax, { gateway: without.child });
    await stopProcess(without.child);
    lags.sort((x, y) => x - y);
    out['lag'] = { p50: Math.round(percentile(lags, 50)), p99: Math.round(percentile(lags, 99)), max: Math.round(lags[lags.length - 1] ?? NaN), maxRecordsBehind: maxBehind, unarchivedAtEnd: seen.length, recordsLogged: logHead };
    out['load'] = { without: base, with: withArchive, ratio: withArchive.requestsPerSecond / base.requestsPerSecond };
  } finally {
    await lagPool.end();
    for (const c of children) await stopProcess(c);
    const c = openArchivePool(admin('postgres'), 1);
    await c.query(`DROP DATABASE IF EXISTS ${lagDb} WITH (FORCE)`).finally(() => c.end());
    rmSync(tmp, { recursive: true, force: true });
  }
  writeFileSync(path.join(ROOT, 'bench/archive-results.json'), `${JSON.stringify(out, null, 2)}\n`);
  const e = out['entity'] as { p50: number; p99: number; recordsPerKey: number };
  const q = out['quarter'] as { ms: number; rows: number; reads: number };
  const ing = out['ingestion'] as { perSecond: number; rounds: number[] };
  const lag = out['lag'] as { p50: number; p99: number; max: number; maxRecordsBehind: number; unarchivedAtEnd: number; recordsLogged: number };
  const ld = out['load'] as { without: LoadResult; with: LoadResult; ratio: number };
  const mb = (b: unknown): string => `${((b as number) / 1048576).toFixed(0)} MB`;
  console.log(`\narchive of ${records} seeded records: ${out['partitions'] as number} partitions, ${mb(out['bytes'])} with indexes (indexes ${mb(out['indexBytes'])})`);
  console.log('| figure | measured | target | |');
  console.log('|---|---:|---|---|');
  console.log(`| entity history p50 / p99 (${e.recordsPerKey} records a key, ${samples} keys) | ${e.p50.toFixed(1)} / ${e.p99.toFixed(1)} ms | p99 < 100 ms | ${e.p99 < 100 ? 'PASS' : 'MISS'} |`);
  console.log(`| one quarter's statistics for one agency (${q.rows} daily counts, ${q.reads} reads) | ${q.ms.toFixed(0)} ms | < 1 s | ${q.ms < 1000 ? 'PASS' : 'MISS'} |`);
  console.log(`| ingestion, shipper's write path, 4 chains, median of ${ing.rounds.length} round(s) (${ing.rounds.join(', ')}) | ${ing.perSecond} records/s | >= 50,000 | ${ing.perSecond >= 50_000 ? 'PASS' : 'MISS'} |`);
  console.log(`| archive lag under the joined query's load, p50 / p99 / max (${lag.recordsLogged} records logged, at most ${lag.maxRecordsBehind} behind) | ${lag.p50} / ${lag.p99} / ${lag.max} ms | within 1 s | ${lag.p99 <= 1000 && lag.unarchivedAtEnd === 0 ? 'PASS' : 'MISS'} |`);
  console.log(`| governed requests/s with the archive / without, same run | ${ld.with.requestsPerSecond} / ${ld.without.requestsPerSecond} = ${ld.ratio.toFixed(2)}\u00d7 | | |`);
}

/**
 * npm run bench -- registry: the registry's figures, each against its target (results.json left as
 * it is): the check of a proposal against an archive of N records (bench/registry-check.ts), then
 * the joined query's requests/s on one governed gateway while a new supergraph version is
 * published on its ledger, against the same gateway steady, in alternated rounds
 * (bench/registry-publish.ts).
 */
async function registry(): Promise<void> {
  try {
    printRegistryBench(await registryBench({ records: Number(args.records), samples: Number(args.samples), ...(process.env['ARCHIVE_URL'] !== undefined ? { url: process.env['ARCHIVE_URL'] } : {}) }));
    printPublishBench(await publishBench());
  } finally {
    for (const c of children) await stopProcess(c);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Requests/s through a supergraph publish: the subgraphs and one governed gateway in processes of their own. */
async function publishBench(): Promise<Awaited<ReturnType<typeof runPublishBench>>> {
  const config = loadConfig(baseEnv);
  const key = verificationKey(config);
  const tax = { authorization: `Bearer ${signToken(key, { agency: 'tax', ttlSeconds: 3600, sub: 'bench' }, { issuer: config.jwtIssuer, audience: config.jwtAudience })}`, 'x-purpose': 'tax-collection' };
  const sub = await startProcess('subgraphs', baseEnv);
  const urlEnv: Record<string, string> = {};
  for (const [name, url] of Object.entries(sub.info['urls'] as Record<string, string>)) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = url;
  const gw = await startProcess('governed', { ...baseEnv, ...urlEnv, INSTANCE_ID: 'bench-registry' });
  console.log(`\nnode ${process.version}, ${cpus().length} CPUs, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternated rounds`);
  return runPublishBench({ config, url: gw.info['url'] as string, body: JOINED, headers: tax, durationSeconds: DURATION, connections: CONNECTIONS, rounds: ROUNDS });
}

(MODE === 'soak' ? soak() : MODE === 'backup' ? backupOnly() : MODE === 'background' ? backgroundOnly() : MODE === 'oversight' ? oversight() : MODE === 'archive' ? archiveBench() : MODE === 'registry' ? registry() : main()).catch(async (e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  for (const c of children) await stopProcess(c);
  process.exit(1);
});
