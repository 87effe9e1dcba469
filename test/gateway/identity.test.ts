import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_IDENTITY_KEY_FILE, DEV_IDENTITY_PUBLIC_FILE } from '../../common/trust-keys.ts';
import { signIdentity, TRUST_HEADER } from '../../common/trust.ts';
import { DEV_KEY_FILE } from '../../gateway/identity/keys.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const QUERY = '{ enterprise(uscc: "91445202MA4W3K7PX2") { name } }';

describe('identity at the gateway', () => {
  let ex: Exchange;
  let privateKey: string;
  let publicKey: string;
  beforeAll(async () => {
    ex = await startExchange({ spy: true });
    privateKey = readFileSync(path.join(ex.config.dataDir, 'keys', DEV_KEY_FILE), 'utf8');
    publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  });
  afterAll(async () => {
    await ex.close();
  });

  const claims = { agency: 'tax', roles: [] as string[] };
  const noExp = { algorithm: 'ES256' as const, issuer: 'exchange', audience: 'exchange-gateway', subject: 'tester' };
  const good = { ...noExp, expiresIn: 300 };
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

  const cases: [string, () => string][] = [
    ['no Authorization header', () => ''],
    ['a garbage Authorization header', () => 'Bearer not-a-token'],
    ['a Basic Authorization header', () => 'Basic dGF4OnRheA=='],
    ['a token signed by another key', () => `Bearer ${jwt.sign(claims, otherKey, good)}`],
    ['an unsigned token (alg none)', () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, sub: 'x', iss: 'exchange', aud: 'exchange-gateway', exp: Math.floor(Date.now() / 1000) + 300 })}.`],
    ['an HS256 token keyed with the public key (algorithm confusion)', () => `Bearer ${jwt.sign(claims, Buffer.from(publicKey), { ...good, algorithm: 'HS256' })}`],
    ['an expired token', () => `Bearer ${jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, privateKey, noExp)}`],
    ['a token without exp', () => `Bearer ${jwt.sign(claims, privateKey, noExp)}`],
    ['a token for another audience', () => `Bearer ${jwt.sign(claims, privateKey, { ...good, audience: 'someone-else' })}`],
    ['a token from another issuer', () => `Bearer ${jwt.sign(claims, privateKey, { ...good, issuer: 'elsewhere' })}`],
    ['a token for an unknown agency', () => `Bearer ${jwt.sign({ ...claims, agency: 'nasa' }, privateKey, good)}`],
    ['a token with an unknown role', () => `Bearer ${jwt.sign({ ...claims, roles: ['root'] }, privateKey, good)}`],
  ];

  it.each(cases)('refuses %s with 401 UNAUTHENTICATED, no data and no subgraph call', async (_name, header) => {
    const before = [...ex.spies.values()].reduce((n, s) => n + s.requests.length, 0);
    const res = await ex.query(QUERY, { authorization: header() });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(res.body).not.toHaveProperty('data');
    const after = [...ex.spies.values()].reduce((n, s) => n + s.requests.length, 0);
    expect(after).toBe(before);
  });

  it('accepts a token minted with the development key', async () => {
    const res = await ex.query(QUERY, { authorization: `Bearer ${jwt.sign(claims, privateKey, good)}` });
    expect(res.status).toBe(200);
    expect(res.body.data?.['enterprise']).toEqual({ name: expect.any(String) });
  });

  it('a subgraph called directly, without the gateway, answers 401', async () => {
    for (const sg of ex.subgraphs.values()) {
      const res = await fetch(sg.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(res.status, sg.name).toBe(401);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  describe('a subgraph checking the gateway identity', () => {
    const ask = async (subgraph: string, identity: string): Promise<number> => {
      const res = await fetch(ex.subgraphs.get(subgraph)!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TRUST_HEADER]: identity },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const amr = { sub: 'amr-tester', agency: 'amr', roles: [], purpose: null };
    const gatewayKey = (): string => readFileSync(path.join(ex.config.dataDir, 'keys', DEV_IDENTITY_KEY_FILE), 'utf8');
    const gatewayPublic = (): string => readFileSync(path.join(ex.config.dataDir, 'keys', DEV_IDENTITY_PUBLIC_FILE), 'utf8');
    const claimsFor = (aud: string, now = Math.floor(Date.now() / 1000)) => ({ iss: 'exchange-gateway', aud, sub: 'x', agency: 'amr', roles: [], purpose: null, iat: now, exp: now + 60 });

    it('accepts an identity the gateway signed for that subgraph', async () => {
      expect(await ask('tax', await signIdentity(gatewayKey(), amr, 'tax'))).toBe(200);
    });

    const forgeries: [string, () => string | Promise<string>][] = [
      ['an identity the gateway signed for another subgraph', () => signIdentity(gatewayKey(), amr, 'eeb')],
      ['an identity signed with another Ed25519 key', () => signIdentity(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), amr, 'tax')],
      ['an identity signed with another P-256 key (ES256)', () => signIdentity(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), amr, 'tax')],
      ['an HS256 identity keyed with the gateway\u2019s public key (what a subgraph holds)', () => jwt.sign(claimsFor('tax'), gatewayPublic(), { algorithm: 'HS256' })],
      ['an HS256 identity keyed with the old shared-secret scheme', () => jwt.sign({ agency: 'tax', roles: [], purpose: null }, 'x'.repeat(64), { algorithm: 'HS256', subject: 's', issuer: 'exchange-gateway', audience: 'tax', expiresIn: 60 })],
      ['an unsigned identity (alg none)', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsFor('tax'))}.`],
      ['an expired identity', () => signIdentity(gatewayKey(), amr, 'tax', Math.floor(Date.now() / 1000) - 120)],
      ['an identity with its payload swapped for another agency', async () => {
        const [h, , s] = (await signIdentity(gatewayKey(), amr, 'tax')).split('.');
        return `${h}.${b64({ ...claimsFor('tax'), agency: 'tax' })}.${s}`;
      }],
      ['garbage', () => 'not.a.token'],
    ];
    it.each(forgeries)('answers 401 to %s', async (_name, forge) => {
      expect(await ask('tax', await forge())).toBe(401);
    });
  });

  it('refuses a token whose lifetime exceeds 24 h with 401, and accepts one of exactly 24 h', async () => {
    const long = jwt.sign(claims, privateKey, { ...good, expiresIn: 24 * 3600 + 1 });
    const res = await ex.query(QUERY, { authorization: `Bearer ${long}` });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toMatch(/lifetime/);
    const day = jwt.sign(claims, privateKey, { ...good, expiresIn: 24 * 3600 });
    expect((await ex.query(QUERY, { authorization: `Bearer ${day}` })).status).toBe(200);
  });

  it('accepts the Bearer scheme word in any case (RFC 7235)', async () => {
    const token = ex.token('tax');
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await ex.query(QUERY, { authorization: `${scheme} ${token}` });
      expect(res.status, scheme).toBe(200);
    }
  });
});
