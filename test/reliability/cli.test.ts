import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../gateway/audit/record.ts';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { ROOT } from '../helpers/root.ts';

const STACK = /\n\s+at .+[:(]\d+|node_modules|\.ts:\d+|Unhandled error event/;

function run(cli: 'audit' | 'token', args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `cli/${cli}.ts`, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A loopback port nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function entry(i: number, agency: string, provider: string): AuditEntry {
  return {
    ts: new Date(Date.UTC(2026, 5, 1, 0, 0, 0, i)).toISOString(),
    requestId: `r-${i}`, operationName: null, operationHash: 'h', sub: `${agency}-dev`, agency, roles: [], purpose: null,
    coordinate: 'Enterprise.name', dataset: `${provider}.data`, provider, class: 'UNCONDITIONAL', decision: 'ALLOW', reason: 'UNCONDITIONAL',
    grantId: null, entityKeys: [`K${i}`], count: 1,
  };
}

describe('the command-line tools under misuse', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-cli-'));
  const env = { DATA_DIR: dataDir, REDIS_URL: '' };
  beforeAll(async () => {
    // Enough records that `query` is still writing when the reader of its pipe goes away.
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'cli-test' });
    const pairs: [string, string][] = [['eeb', 'amr'], ['tax', 'tax'], ['hrss', 'psb'], ['amr', 'tax']];
    for (let b = 0; b < 5; b++) await store.append(Array.from({ length: 1000 }, (_, i) => entry(b * 1000 + i, ...pairs[i % 4]!)));
    await store.close();
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  const token = (args: string[]): string => run('token', args, env).stdout.trim();

  it.each([
    ['token', ['--help']],
    ['audit', ['--help']],
    ['audit', ['query', '--help']],
    ['audit', ['verify', '--help']],
    ['audit', ['export', '-h']],
  ] as const)('%s %s prints the usage and exits 0', (cli, args) => {
    const r = run(cli, [...args], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/npm run (token|audit) --/);
    expect(r.stderr).toBe('');
  });

  it('audit query | head exits cleanly when the pipe closes, without a stack trace', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" --import tsx cli/audit.ts query --json | head -n 1`], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ instance: 'cli-test' });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it.each([['query'], ['verify'], ['export', '--out', '/dev/null']])('audit %s with Redis unreachable says so in one line and exits 1', async (...args) => {
    const r = run('audit', args, { ...env, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^audit: cannot reach Redis at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it.each([['bin/gateway.ts'], ['bin/subgraph.ts', 'exchange']])('%s with Redis unreachable stops with one line naming it and exit 1', async (...argv) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', ...argv], {
      cwd: ROOT, env: { ...process.env, ...env, PORT: '0', REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status).toBe(1);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(/: cannot reach Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\); is it running\?$/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('token refuses a --ttl over 24 h, naming --max-ttl', () => {
    const r = run('token', ['--agency', 'tax', '--ttl', '100000d'], env);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^token: --ttl 100000d is longer than the 24h cap; .*--max-ttl/);
  });

  it('token signs a 2-day token when an operator raises the cap with --max-ttl', () => {
    const r = run('token', ['--agency', 'tax', '--ttl', '2d', '--max-ttl', '7d'], env);
    expect(r.status).toBe(0);
    const claims = JSON.parse(Buffer.from(r.stdout.trim().split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(2 * 86400);
  });

  it('audit query --token of a psb auditor lists only records where psb is consumer or provider', () => {
    const r = run('audit', ['query', '--json', '--token', token(['--agency', 'psb', '--roles', 'auditor'])], env);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { agency: string; provider: string });
    expect(rows).toHaveLength(1250);
    expect(rows.every((x) => x.agency === 'hrss' && x.provider === 'psb')).toBe(true);
  });

  it('audit query --token of an itd auditor lists everything', () => {
    const r = run('audit', ['query', '--json', '--token', token(['--agency', 'itd', '--roles', 'auditor'])], env);
    expect(r.stdout.trim().split('\n')).toHaveLength(5000);
  });

  it('audit query refuses a token without role auditor', () => {
    const r = run('audit', ['query', '--token', token(['--agency', 'tax'])], env);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^audit: --token .* without role auditor/);
  });

  it('a scoped export hides other agencies\u2019 records but still verifies, and a tampered redaction does not', () => {
    const out = path.join(dataDir, 'scoped.json');
    expect(run('audit', ['export', '--out', out, '--token', token(['--agency', 'psb', '--roles', 'auditor'])], env).status).toBe(0);
    const text = readFileSync(out, 'utf8');
    const bundle = JSON.parse(text) as { instances: { records: { redacted?: true; agency?: string }[] }[] };
    const records = bundle.instances[0]!.records;
    expect(records.filter((x) => x.redacted !== true).every((x) => x.agency === 'hrss')).toBe(true);
    expect(records.filter((x) => x.redacted === true)).toHaveLength(3750);
    expect(text).not.toContain('"agency":"eeb"');
    expect(run('audit', ['verify', '--bundle', out], env).status).toBe(0);
    const stub = records.findIndex((x) => x.redacted === true);
    (records[stub] as { hash: string }).hash = 'f'.repeat(64);
    writeFileSync(out, JSON.stringify(bundle));
    const bad = run('audit', ['verify', '--bundle', out], env);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/bundle BROKEN/);
  }, 90_000);
});
