import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { loadSubgraphHostConfig } from '../../subgraphs/kit/host-config.ts';
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
    expect(c.region).toBe('445200');
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
    [{ EXCHANGE_REGION: '44520' }, 'EXCHANGE_REGION must be an administrative division code of GB/T 2260 (six digits, e.g. 445200 Jieyang, 440000 Guangdong), got "44520"'],
    [{ EXCHANGE_REGION: 'jieyang' }, 'EXCHANGE_REGION must be an administrative division code of GB/T 2260 (six digits, e.g. 445200 Jieyang, 440000 Guangdong), got "jieyang"'],
    [{ MAX_DOCUMENT_ARGUMENT_LENGTH: '0' }, 'MAX_DOCUMENT_ARGUMENT_LENGTH must be an integer from 1 to 1000000, got "0"'],
    [{ MAX_DOCUMENT_ARGUMENT_LENGTH: '1000001' }, 'MAX_DOCUMENT_ARGUMENT_LENGTH must be an integer from 1 to 1000000, got "1000001"'],
    [{ MAX_DOCUMENT_ARGUMENT_LENGTH: '200k' }, 'MAX_DOCUMENT_ARGUMENT_LENGTH must be an integer from 1 to 1000000, got "200k"'],
  ])('refuses %o: %s', (env, message) => {
    expect(problems(env)).toEqual([message]);
  });
  describe('gateway identity keys', () => {
    const pem = (k: { export(o: { type: 'pkcs8' | 'spki'; format: 'pem' }): string | Buffer }, type: 'pkcs8' | 'spki'): string => k.export({ type, format: 'pem' }).toString();
    const ed = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

    it('derives the public key from GATEWAY_SIGNING_KEY alone (Ed25519 or ES256)', () => {
      for (const pair of [ed, ec]) {
        const c = loadConfig({ GATEWAY_SIGNING_KEY: pem(pair.privateKey, 'pkcs8') });
        expect(c.gatewayIdentity).toEqual({ kind: 'configured', signingKeyPem: pem(pair.privateKey, 'pkcs8').trim(), publicKeyPem: pem(pair.publicKey, 'spki') });
      }
    });
    it('takes GATEWAY_PUBLIC_KEY alone, for a host that runs only subgraphs', () => {
      const c = loadConfig({ GATEWAY_PUBLIC_KEY: pem(ed.publicKey, 'spki') });
      expect(c.gatewayIdentity).toMatchObject({ kind: 'configured', signingKeyPem: null });
    });
    it.each([
      ['an RSA signing key', () => ({ GATEWAY_SIGNING_KEY: pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, 'pkcs8') }), 'GATEWAY_SIGNING_KEY must be an Ed25519 or P-256 (ES256) key, got rsa'],
      ['a public key as the signing key', () => ({ GATEWAY_SIGNING_KEY: pem(ed.publicKey, 'spki') }), 'GATEWAY_SIGNING_KEY is not a PEM private key'],
      ['a pair that does not belong together', () => ({ GATEWAY_SIGNING_KEY: pem(ed.privateKey, 'pkcs8'), GATEWAY_PUBLIC_KEY: pem(ec.publicKey, 'spki') }), 'GATEWAY_PUBLIC_KEY is not the public key of GATEWAY_SIGNING_KEY'],
      ['the retired shared secret', () => ({ SUBGRAPH_SECRET: 'x'.repeat(40) }), /^SUBGRAPH_SECRET is no longer used/],
      ['a non-numeric timeout', () => ({ SUBGRAPH_TIMEOUT_MS: '10s' }), 'SUBGRAPH_TIMEOUT_MS must be an integer from 1 to 600000, got "10s"'],
      ['a malformed token lifetime', () => ({ JWT_MAX_TTL: 'forever' }), 'JWT_MAX_TTL must look like 3600s, 90m, 24h or 7d, got "forever"'],
    ])('refuses %s', (_name, env, message) => {
      const found = problems(env());
      expect(found).toHaveLength(1);
      if (typeof message === 'string') expect(found[0]).toBe(message);
      else expect(found[0]).toMatch(message);
    });
    it('defaults SUBGRAPH_TIMEOUT_MS to 10000 and the token lifetime to 24 h', () => {
      const c = loadConfig({});
      expect(c.subgraphTimeoutMs).toBe(10_000);
      expect(c.jwtMaxTtlSeconds).toBe(86_400);
      expect(c.gatewayIdentity.kind).toBe('dev');
    });
  });
  it('bounds a document argument (a proposal\u2019s SDL) by MAX_DOCUMENT_ARGUMENT_LENGTH, 200000 unless set, apart from MAX_TEXT_ARGUMENT_LENGTH', () => {
    expect(loadConfig({}).inputLimits).toMatchObject({ maxDocumentLength: 200_000, maxTextLength: 2000 });
    expect(loadConfig({ MAX_DOCUMENT_ARGUMENT_LENGTH: '1000000', MAX_TEXT_ARGUMENT_LENGTH: '300' }).inputLimits).toMatchObject({ maxDocumentLength: 1_000_000, maxTextLength: 300 });
  });
  it('checks EXCHANGE_REGION on a host that runs only subgraphs too, defaulting to 445200', () => {
    expect(loadSubgraphHostConfig({}).region).toBe('445200');
    expect(loadSubgraphHostConfig({ EXCHANGE_REGION: '445222' }).region).toBe('445222');
    expect(() => loadSubgraphHostConfig({ EXCHANGE_REGION: '4452' })).toThrow(/EXCHANGE_REGION must be an administrative division code of GB\/T 2260 .*got "4452"/);
  });

  it('reports every problem at once', () => {
    expect(problems({ PORT: '-1', REDIS_URL: 'nope' })).toHaveLength(2);
  });

  it.each([
    ['PORT=abc', { PORT: 'abc' }, /PORT must be an integer/],
    ['an unreadable key', { JWT_PUBLIC_KEY: '/nonexistent/key.pem' }, /JWT_PUBLIC_KEY: cannot read key file/],
    ['a malformed REDIS_URL', { REDIS_URL: 'http://x' }, /REDIS_URL must look like/],
    ['a region that is no division code', { EXCHANGE_REGION: '000000' }, /EXCHANGE_REGION must be an administrative division code/],
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
