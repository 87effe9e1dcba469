import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { devLogKeyFile } from '../../ledger/log/log-key.ts';
import { startExchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function tmp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'exchange-logkey-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

const ed25519 = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('the log signing key and the witnesses in the configuration', () => {
  it('takes LOG_SIGNING_KEY as a PEM and WITNESS_URLS as a comma-separated list', () => {
    const pem = ed25519();
    const c = loadConfig({ LOG_SIGNING_KEY: pem, WITNESS_URLS: 'https://witness.one.example, http://127.0.0.1:4100' });
    expect(c.logSigningKey).toBe(pem.trim());
    expect(c.witnessUrls).toEqual(['https://witness.one.example', 'http://127.0.0.1:4100']);
  });

  it('defaults to the development key and no witness', () => {
    expect(loadConfig({})).toMatchObject({ logSigningKey: null, witnessUrls: [] });
  });

  it.each([
    ['a P-256 key', { LOG_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, 'LOG_SIGNING_KEY must be an Ed25519 private key, got ec'],
    ['a broken PEM', { LOG_SIGNING_KEY: readFileSync(path.join(ROOT, 'test/fixtures/broken-private-key.pem'), 'utf8').trimEnd() }, 'LOG_SIGNING_KEY is not a PEM private key'],
    ['a missing file', { LOG_SIGNING_KEY: '/nonexistent/log.pem' }, 'LOG_SIGNING_KEY: cannot read key file "log.pem"'],
    ['an ftp witness', { WITNESS_URLS: 'https://ok.example,ftp://witness' }, 'WITNESS_URLS: "ftp://witness" is not an http(s) URL'],
  ])('refuses %s with one line naming the variable', (_, env, message) => {
    expect(problems(env)).toEqual([message]);
  });

  it('refuses a LOG_SIGNING_KEY file kept inside DATA_DIR', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'data', 'keys'), { recursive: true });
    const file = path.join(dir, 'data', 'keys', 'log.pem');
    writeFileSync(file, ed25519());
    expect(problems({ DATA_DIR: path.join(dir, 'data'), LOG_SIGNING_KEY: file })).toEqual(['LOG_SIGNING_KEY must not be kept inside DATA_DIR (whoever can change the log could sign with it)']);
  });

  it('makes the development key outside DATA_DIR, and the gateway warns at start', async () => {
    const ex = await startExchange();
    cleanups.push(() => ex.close());
    const file = devLogKeyFile(ex.config.dataDir);
    expect(existsSync(file)).toBe(true);
    expect(path.relative(ex.config.dataDir, file).startsWith('..')).toBe(true);
    expect(ex.logLines.filter((l) => l.includes('LOG_SIGNING_KEY'))).toEqual([expect.stringMatching(/^warn LOG_SIGNING_KEY is not set: log records are signed with a development key kept at .*log-keys.*log-ed25519\.pem/)]);
  });
});
