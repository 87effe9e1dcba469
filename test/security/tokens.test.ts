import { request } from 'node:http';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verificationKey } from '../../gateway/identity/keys.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

/** A POST with the Host and Origin a browser would send, which fetch does not let a caller set. */
function postAs(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: { token?: string; errors?: { message: string; extensions: Record<string, unknown> }[] } }> {
  const to = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: to.hostname, port: to.port, path: to.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as never }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('tokens an insider could forge or obtain', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  const signed = (iatOffsetSeconds: number): string => {
    const key = verificationKey(ex.config);
    const iat = Math.floor(Date.now() / 1000) + iatOffsetSeconds;
    return jwt.sign({ agency: 'amr', roles: [], iat }, key.signingKey!, { algorithm: key.algorithm, subject: 'amr-insider', issuer: ex.config.jwtIssuer, audience: ex.config.jwtAudience, expiresIn: 60 });
  };

  it('refuses a token issued ten years ahead with a one-minute lifetime: 401 UNAUTHENTICATED naming iat', async () => {
    const res = await ex.query('{ __typename }', { authorization: `Bearer ${signed(10 * 365 * 24 * 3600)}` });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0]?.message).toMatch(/iat/);
  });

  it('accepts a token whose issuer clock runs a few seconds ahead', async () => {
    const res = await ex.query('{ __typename }', { authorization: `Bearer ${signed(5)}` });
    expect(res.status).toBe(200);
  });

  describe('the development sign-in against DNS rebinding', () => {
    const body = JSON.stringify({ agency: 'itd', roles: ['auditor', 'coordinator', 'policy-maintainer'] });
    const devTokenUrl = (): string => new URL('/console/dev-token', ex.url).toString();
    const port = (): string => new URL(ex.url).port;

    it('refuses a foreign Host name that resolves to this machine', async () => {
      const res = await postAs(devTokenUrl(), { host: `rebind.attacker.example:${port()}` }, body);
      expect(res.status).toBe(404);
      expect(res.body.token).toBeUndefined();
    });

    it('refuses a loopback Host called from a foreign Origin', async () => {
      const res = await postAs(devTokenUrl(), { host: `127.0.0.1:${port()}`, origin: 'http://rebind.attacker.example' }, body);
      expect(res.status).toBe(404);
      expect(res.body.token).toBeUndefined();
    });

    it.each(['127.0.0.1', 'localhost', '[::1]'])('answers the console on %s', async (name) => {
      const res = await postAs(devTokenUrl(), { host: `${name}:${port()}`, origin: `http://${name}:${port()}` }, body);
      expect(res.status).toBe(200);
      expect(res.body.token).toEqual(expect.any(String));
    });
  });
});
