import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { ROOT } from '../helpers/root.ts';

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('configuration', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(4000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.redisUrl).toBeNull();
    expect(c.unclassifiedFields).toBe('deny');
    expect(c.jwt.kind).toBe('dev');
    expect(c.jwtIssuer).toBe('exchange');
    expect(c.jwtAudience).toBe('exchange-gateway');
    expect(Object.isFrozen(c)).toBe(true);
  });
  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer from 0 to 65535, got "abc"'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535, got "70000"'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must look like redis://host:port[/db], got "localhost:6379"'],
    [{ UNCLASSIFIED_FIELDS: 'maybe' }, 'UNCLASSIFIED_FIELDS must be "deny" or "allow", got "maybe"'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 bytes'],
    [{ JWT_PUBLIC_KEY: '/nonexistent/key.pem' }, 'JWT_PUBLIC_KEY: cannot read key file "key.pem"'],
    [{ SUBGRAPH_URL_TAX: 'ftp://x' }, 'SUBGRAPH_URL_TAX must be an http(s) URL, got "ftp://x"'],
  ])('refuses %o: %s', (env, message) => {
    expect(problems(env)).toEqual([message]);
  });
  it('reports every problem at once', () => {
    expect(problems({ PORT: '-1', REDIS_URL: 'nope' })).toHaveLength(2);
  });

  it.each([
    ['PORT=abc', { PORT: 'abc' }, /PORT must be an integer/],
    ['an unreadable key', { JWT_PUBLIC_KEY: '/nonexistent/key.pem' }, /JWT_PUBLIC_KEY: cannot read key file/],
    ['a malformed REDIS_URL', { REDIS_URL: 'http://x' }, /REDIS_URL must look like/],
  ])('npm run gateway with %s stops with one clear line and exit code 1', (_name, env, expected) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-cfg-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'bin/gateway.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^invalid configuration: /);
    expect(lines[0]).toMatch(expected);
    expect(out.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
