import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { openConsoleBrowser, type ConsoleBrowser } from './chromium.ts';

/**
 * The console shows each principal the pages it can read and runs only their queries: a tab whose
 * fields a token cannot read would leave a denial in the access log at every visit, and enough of
 * those make a probing finding against the agency.
 */
describe('console pages by role', () => {
  let ex: Exchange;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    ex = await startExchange();
    browser = await openConsoleBrowser(ex);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.close();
  });

  /** The GraphQL operations the page sends from now on (their text). */
  function operations(page: Page): string[] {
    const sent: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/graphql' && r.method() === 'POST') sent.push((JSON.parse(r.postData() ?? '{}') as { query?: string }).query ?? '');
    });
    return sent;
  }

  const tabs = (page: Page) => page.getByRole('navigation', { name: 'pages' }).getByRole('link').allInnerTexts();

  async function visitEveryTab(page: Page): Promise<void> {
    const hrefs = await page.getByRole('navigation', { name: 'pages' }).getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    for (const href of hrefs) {
      await browser.open(page, href.replace(/^#\//, ''));
      await page.locator('main section.card').first().waitFor();
      await page.waitForLoadState('networkidle');
    }
  }

  /** Denials the access log holds for an agency, as an auditor of the authority reads them. */
  async function denials(agency: string): Promise<string[]> {
    const res = await ex.query('query($a: String) { auditRecords(filter: { agency: $a, decision: DENY }, first: 100) { records { coordinate reason } } }', { agency: 'itd', roles: ['auditor'], variables: { a: agency } });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data?.['auditRecords'] as { records: { coordinate: string; reason: string }[] }).records.map((r) => `${r.coordinate} ${r.reason}`);
  }

  it('shows a member without roles neither the authority\u2019s, the auditors\u2019 nor the maintainers\u2019 pages, and its tour of every tab leaves no denial', async () => {
    const page = await browser.newPage();
    await browser.signIn(page, 'eeb');
    const shown = await tabs(page);
    expect(shown.join(' | ')).toMatch(/Members.*Proposals.*Versions/);
    expect(shown.join(' | ')).not.toMatch(/Authority|Audit|Policy/);
    await visitEveryTab(page);
    await expect.poll(() => denials('eeb'), { timeout: 10_000 }).toEqual([]);
    await page.close();
  }, 90_000);

  it('answers a link to a page the principal has no use for with a note, and asks the exchange nothing for it', async () => {
    const page = await browser.newPage();
    await browser.signIn(page, 'tax');
    const sent = operations(page);
    await browser.open(page, 'audit');
    await expect.poll(() => page.getByRole('heading', { level: 2 }).first().innerText()).toContain('not for the signed-in principal');
    await page.waitForLoadState('networkidle');
    expect(sent).toEqual([]);
    await page.close();
  }, 60_000);

  it('gives a coordinator without the auditor role the authority\u2019s page without the policy history, and no denial for it', async () => {
    const page = await browser.newPage();
    await browser.signIn(page, 'itd', ['coordinator']);
    const sent = operations(page);
    expect((await tabs(page)).join(' | ')).toMatch(/Authority/);
    await browser.open(page, 'authority');
    await page.locator('#cases').waitFor();
    await page.waitForLoadState('networkidle');
    expect(sent.some((q) => q.includes('sharingRequests'))).toBe(true);
    expect(sent.filter((q) => /policyHistory|auditChainStatus|accessHistory/.test(q))).toEqual([]);
    expect(await page.locator('#policy-history').count()).toBe(0);
    expect(await page.locator('main form.action').count()).toBeGreaterThan(0);
    await visitEveryTab(page);
    await expect.poll(() => denials('itd'), { timeout: 10_000 }).toEqual([]);
    await page.close();
  }, 90_000);

  it('gives an auditor of the authority its page to read, with the policy history and without a control to act', async () => {
    const page = await browser.newPage();
    await browser.signIn(page, 'itd', ['auditor']);
    await browser.open(page, 'authority');
    await page.locator('#policy-history').waitFor();
    await page.locator('#findings').waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.locator('main form.action').count()).toBe(0);
    await page.close();
  }, 60_000);
});
