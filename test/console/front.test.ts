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

    it('offers a member the coordinator registers in the sign-in list at the next page load, and a retired one no more', async () => {
      const config = async () => {
        const html = await (await fetch(new URL('/console', ex.url), { headers: { accept: 'text/html' } })).text();
        const json = /<script id="exchange-config" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}';
        return (JSON.parse(json) as { agencies: Record<string, { name: string; active: boolean }> }).agencies;
      };
      expect(await devToken(ex, { agency: 'fin2' })).toMatchObject({ status: 400 });
      const input = { code: 'fin2', division: '445200', name: '揭阳市财政局', nameEn: 'Finance Bureau', kind: 'ADMINISTRATIVE_BODY', responsiblePerson: '李明', contact: '0663-8220000' };
      const registered = await ex.query('mutation($i: MemberInput!) { registerMember(input: $i) { status } }', { agency: 'itd', roles: ['coordinator'], variables: { i: input } });
      expect(registered.body.errors).toBeUndefined();
      expect((await config())['fin2']).toEqual({ name: '揭阳市财政局', nameEn: 'Finance Bureau', active: true });
      expect((await devToken(ex, { agency: 'fin2' })).status).toBe(200);

      const retired = await ex.query('mutation { retireMember(code: "fin2", reasons: "机构撤销") { status } }', { agency: 'itd', roles: ['coordinator'] });
      expect(retired.body.errors).toBeUndefined();
      expect((await config())['fin2']).toMatchObject({ active: false });
      const refused = await devToken(ex, { agency: 'fin2' });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'agency' });
      expect(refused.body.errors?.[0]?.message).toContain('active member');
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
