import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * npm run compat -- --suite <checkout of graphql-hive/federation-gateway-audit>
 *
 * Runs the public federation-gateway-audit suite (46 test suites, 199 cases) against the governed
 * gateway (UNCLASSIFIED_FIELDS=allow, no grant or agreement lines) and a bare @apollo/gateway, one
 * after the other over the same supergraphs and subgraphs, and prints both scores and every case
 * the governed gateway fails that the bare one passes (docs/contract.md: there must be none).
 *
 * Nothing is downloaded at run time. Prepare the suite once, outside this repository:
 *   git clone https://github.com/graphql-hive/federation-gateway-audit /tmp/federation-gateway-audit
 *   (cd /tmp/federation-gateway-audit && npm ci --omit=dev --ignore-scripts)
 *   ln -s "$PWD/node_modules/graphql" /tmp/federation-gateway-audit/node_modules/graphql
 * (the suite's development dependencies cannot all be installed, and `--omit=dev` leaves out its
 * graphql peer; this repository's graphql serves.)
 * The suite serves its subgraphs on --suite-port and starts each gateway through a run script that
 * it kills between test suites; it also kills whatever listens on --gateway-port, so both ports
 * must be free (this script refuses to start otherwise).
 */
const { values: args } = parseArgs({
  options: {
    suite: { type: 'string' },
    tests: { type: 'string' },
    'gateway-port': { type: 'string', default: '4480' },
    'suite-port': { type: 'string', default: '4490' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const ROOT = path.resolve(import.meta.dirname, '..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
type Kind = 'bare' | 'governed';
type CaseResults = Map<string, boolean>;

function usage(problem: string): never {
  process.stderr.write(`compat: ${problem}\nusage: npm run compat -- --suite <federation-gateway-audit checkout> [--tests id,id] [--only governed|bare] [--gateway-port 4480] [--suite-port 4490]\n`);
  process.exit(2);
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Cases from the suite's TAP logs (`ok 3 - abstract-types_2`, `not ok ...`). */
function readCases(logsDir: string): CaseResults {
  const results: CaseResults = new Map();
  if (!existsSync(logsDir)) return results;
  for (const file of readdirSync(logsDir).filter((f) => f.endsWith('-tests.log')).sort()) {
    for (const line of readFileSync(path.join(logsDir, file), 'utf8').split('\n')) {
      const m = /^\s*(not ok|ok) \d+ - (\S+_\d+)\s*$/.exec(line);
      if (m !== null) results.set(m[2]!, m[1] === 'ok');
    }
  }
  return results;
}

/**
 * The suite is written for Node 22 (Promise.withResolvers); on Node 20 its processes get this
 * one-function polyfill through NODE_OPTIONS, and nothing else changes.
 */
const WITH_RESOLVERS = `if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () { let resolve, reject; const promise = new this((a, b) => { resolve = a; reject = b; }); return { promise, resolve, reject }; };
}
`;

function run(command: string, argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function runSuite(kind: Kind, suite: string, work: string, gatewayPort: number, suitePort: number, tests: readonly string[] | null): Promise<CaseResults> {
  const dir = path.join(work, kind);
  mkdirSync(dir, { recursive: true });
  const runScript = path.join(dir, 'run.sh');
  // The suite runs this once per test suite id, and kills it (and whatever holds the port) after.
  writeFileSync(
    runScript,
    [
      '#!/bin/sh',
      `cd '${ROOT}'`,
      `exec '${process.execPath}' --import tsx bench/compat-gateway.ts ${kind} "http://localhost:${suitePort}/$1/supergraph" ${gatewayPort} '${dir}/run-'"$1"`,
      '',
    ].join('\n'),
    { flag: 'w' },
  );
  chmodSync(runScript, 0o755);
  const polyfill = path.join(work, 'with-resolvers.mjs');
  writeFileSync(polyfill, WITH_RESOLVERS);
  // GATEWAY_TIMEOUT: how long the suite waits for /health; a gateway started through tsx on a busy
  // 2-CPU machine can take longer than the suite's 5 s default.
  const env = { ...process.env, GATEWAY_TIMEOUT: '60000', NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${pathToFileURL(polyfill).href}`.trim() };
  const common = ['--cwd', dir, '--run-script', './run.sh', '--graphql', `http://127.0.0.1:${gatewayPort}/graphql`, '--healthcheck', `http://127.0.0.1:${gatewayPort}/health`, '--port', String(suitePort)];
  process.stdout.write(`\n== ${kind === 'bare' ? 'bare @apollo/gateway' : 'governed gateway (UNCLASSIFIED_FIELDS=allow)'}\n`);
  if (tests === null) await run(TSX, [path.join(suite, 'src/cli.ts'), 'test', ...common, '--reporter', 'dot'], suite, env);
  else for (const id of tests) await run(TSX, [path.join(suite, 'src/cli.ts'), 'test-suite', '--test', id, ...common, '--reporter', 'dot'], suite, env);
  return readCases(path.join(dir, 'logs'));
}

function score(r: CaseResults): string {
  return `${[...r.values()].filter(Boolean).length}/${r.size}`;
}

async function main(): Promise<void> {
  const suite = args.suite === undefined ? usage('--suite is required') : path.resolve(args.suite);
  if (!existsSync(path.join(suite, 'src/cli.ts'))) usage(`${suite} is not a checkout of federation-gateway-audit (no src/cli.ts)`);
  if (!existsSync(path.join(suite, 'node_modules'))) usage(`${suite} has no node_modules: run "npm ci --omit=dev --ignore-scripts" in it first`);
  if (!existsSync(path.join(suite, 'node_modules/graphql'))) usage(`${suite} lacks graphql: ln -s "${path.join(ROOT, 'node_modules/graphql')}" "${path.join(suite, 'node_modules/graphql')}"`);
  const gatewayPort = Number(args['gateway-port']);
  const suitePort = Number(args['suite-port']);
  for (const [name, port] of [['--gateway-port', gatewayPort], ['--suite-port', suitePort]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`${name} must be a port number`);
    // The suite kills whatever holds the gateway port: never point it at someone else's process.
    if (await portInUse(port)) usage(`port ${port} (${name}) is in use; choose a free one`);
  }
  const only = args.only;
  if (only !== undefined && only !== 'governed' && only !== 'bare') usage('--only must be governed or bare');
  const tests = args.tests === undefined ? null : args.tests.split(',').map((t) => t.trim()).filter((t) => t !== '');

  const work = mkdtempSync(path.join(tmpdir(), 'exchange-compat-'));
  const results = new Map<Kind, CaseResults>();
  try {
    for (const kind of ['bare', 'governed'] as const) {
      if (only !== undefined && only !== kind) continue;
      results.set(kind, await runSuite(kind, suite, work, gatewayPort, suitePort, tests));
    }
  } finally {
    if (args.keep !== true) rmSync(work, { recursive: true, force: true });
    else process.stdout.write(`\nlogs kept in ${work}\n`);
  }

  const bare = results.get('bare');
  const governed = results.get('governed');
  if ([...results.values()].some((r) => r.size === 0)) {
    process.stderr.write('compat: the suite reported no test case; see its output above\n');
    process.exit(1);
  }
  process.stdout.write('\n\nfederation-gateway-audit\n');
  if (bare !== undefined) process.stdout.write(`  bare @apollo/gateway:           ${score(bare)}\n`);
  if (governed !== undefined) process.stdout.write(`  governed (everything allowed):  ${score(governed)}\n`);
  const failing = (r: CaseResults): string[] => [...r].filter(([, ok]) => !ok).map(([id]) => id).sort();
  if (bare !== undefined) process.stdout.write(`  bare fails: ${failing(bare).join(', ') || 'none'}\n`);
  if (governed !== undefined) process.stdout.write(`  governed fails: ${failing(governed).join(', ') || 'none'}\n`);
  if (bare !== undefined && governed !== undefined) {
    const regressions = [...bare].filter(([id, ok]) => ok && governed.get(id) !== true).map(([id]) => id).sort();
    process.stdout.write(`  passed by bare, failed by governed: ${regressions.join(', ') || 'none'}\n`);
    process.stdout.write(regressions.length === 0 ? 'PASS: the governed gateway passes every case the bare one passes\n' : 'MISS: governance changed federation answers\n');
    if (regressions.length > 0) process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`compat: ${(e as Error).message}\n`);
  process.exit(1);
});
