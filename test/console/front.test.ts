import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

async function devToken(ex: Exchange, body: unknown) {
  const res = await fetch(new URL('/console/dev-token', ex.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { token?: string; errors?: { message: string; extensions: Record<string, unknown> }[] } };
}

describe('console and explorer over HTTP', () => {
  describe('with the development key', () => {
    let ex: Exchange;
    beforeAll(async () => {
      ex = await startExchange();
    });
    afterAll(async () => {
      await ex.close();
    });

    it('serves the explorer to a browser at GET /graphql, under a policy allowing only the exchange itself', async () => {
      const res = await fetch(ex.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
      const html = await res.text();
      expect(html).toContain('/assets/explorer.js');
      expect(html).not.toMatch(/https?:\/\//);
      const script = await fetch(new URL('/assets/explorer.js', ex.url));
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    });

    it('still answers a programmatic GET query with JSON', async () => {
      const res = await fetch(`${ex.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { authorization: `Bearer ${ex.token('tax')}`, accept: 'application/json' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    });

    it('signs in as an agency with roles, and the token works on /graphql', async () => {
      const res = await devToken(ex, { agency: 'itd', roles: ['auditor'] });
      expect(res.status).toBe(200);
      const q = await ex.query('{ auditChainStatus { intact } }', { authorization: `Bearer ${res.body.token}` });
      expect(q.body.data).toEqual({ auditChainStatus: { intact: true } });
    });

    it('names a bad agency or role', async () => {
      expect((await devToken(ex, { agency: 'nobody' })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'agency' });
      expect((await devToken(ex, { agency: 'tax', roles: ['root'] })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'roles' });
    });
  });

  describe('with a configured key', () => {
    let ex: Exchange;
    beforeAll(async () => {
      ex = await startExchange({ env: { JWT_SECRET: SECRET } });
    });
    afterAll(async () => {
      await ex.close();
    });

    it('offers no sign-in as another agency: the route is not there and the page says no development key', async () => {
      const res = await devToken(ex, { agency: 'itd', roles: ['auditor'] });
      expect(res.status).toBe(404);
      expect(res.body.token).toBeUndefined();
      const page = await (await fetch(new URL('/console', ex.url), { headers: { accept: 'text/html' } })).text();
      expect(page).toContain('"devKey":false');
    });
  });
});
