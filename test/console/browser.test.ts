import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { openConsoleBrowser, SHOTS, type ConsoleBrowser } from './chromium.ts';

/**
 * The console and the explorer in Debian's Chromium, headless, against a real exchange: the
 * walkthrough of docs/sharing-requests.md done entirely in the browser, the auditor's and the
 * authority's views of it, and every page at desktop and phone widths with no console error and
 * no request leaving the exchange.
 */
const ENT = '91445202MA4W3K7PX2';
const GRADE_QUERY = `{ enterprise(uscc: "${ENT}") { name taxCreditGrade } }`;

describe('console and explorer in a browser', () => {
  let ex: Exchange;
  let browser: ConsoleBrowser;
  let origin: string;
  const watch = (): Promise<Page> => browser.newPage();
  const signIn = (page: Page, agency: string, roles: readonly string[] = []) => browser.signIn(page, agency, roles);
  const open = (page: Page, hash: string) => browser.open(page, hash);
  const runInExplorer = (page: Page, query: string, purpose: string) => browser.runInExplorer(page, query, purpose);

  beforeAll(async () => {
    ex = await startExchange();
    browser = await openConsoleBrowser(ex);
    origin = browser.origin;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.close();
  });

  it('walks the sharing-request walkthrough in the browser: denied with a remedy, request, approval, agreement, then the grade', async () => {
    const page = await watch();
    await signIn(page, 'eeb');

    // 1. Denied: the explorer shows the reason and the remedy.
    expect(await runInExplorer(page, GRADE_QUERY, 'environmental-enforcement')).toContain('"name"');
    const denials = page.getByRole('status').filter({ hasText: 'Denied fields' });
    await expect.poll(() => denials.innerText()).toContain('GRANT_REQUIRED');
    expect(await denials.innerText()).toMatch(/Enterprise\.taxCreditGrade.*tax/s);
    await page.screenshot({ path: path.join(SHOTS, 'explorer-denied-1280.png') });

    // 2. eeb files a request from the dataset's page.
    await open(page, 'catalog/tax.credit-rating');
    await page.getByRole('checkbox', { name: /^market-supervision/ }).uncheck();
    await page.getByRole('checkbox', { name: /^environmental-enforcement/ }).check();
    await page.getByLabel(/法律依据 Legal basis/).fill('R-11');
    await page.getByLabel(/申请理由 Justification/).fill('环境信用评价');
    await page.getByRole('button', { name: /提交申请 File the request/ }).click();
    await expect.poll(() => page.getByTestId('filed').textContent()).toContain('PENDING');
    const requestId = (await page.getByTestId('filed').locator('code').textContent())!;

    // 3. tax approves in its inbox.
    await signIn(page, 'tax');
    await open(page, 'inbox');
    const request = page.locator(`article[data-request="${requestId}"]`);
    await request.getByLabel(/Conditions/).fill('仅用于环境信用评价');
    await request.getByRole('button', { name: /批准 Approve/ }).click();
    await expect.poll(() => page.locator('#to-answer').innerText()).toMatch(new RegExp(`${requestId}[\\s\\S]*APPROVED`));

    // 4. eeb proposes the confidentiality agreement; tax countersigns it.
    await signIn(page, 'eeb');
    await open(page, 'mine');
    await page.getByLabel(/数据集（逗号分隔） Datasets/).fill('tax.credit-rating');
    await page.getByLabel(/协议文号 Document reference/).fill('揭环税保密〔2026〕1号');
    await page.getByRole('button', { name: /签署并提议 Sign and propose/ }).click();
    await expect.poll(() => page.getByTestId('proposed').textContent()).toContain('PROPOSED');
    const agreementId = (await page.getByTestId('proposed').textContent())!.split(' · ')[0]!;

    await signIn(page, 'tax');
    await open(page, 'inbox');
    await page.getByRole('button', { name: new RegExp(`会签 Countersign ${agreementId}$`) }).click();
    await expect.poll(() => page.locator('#countersign').innerText()).not.toContain(agreementId);

    // 5. eeb's explorer query now returns the grade, the one tax holds.
    await signIn(page, 'eeb');
    const result = await runInExplorer(page, GRADE_QUERY, 'environmental-enforcement');
    const truth = await ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'tax' });
    const grade = (truth.body.data?.['enterprise'] as { taxCreditGrade: string }).taxCreditGrade;
    expect(result).toContain(`"taxCreditGrade": "${grade}"`);
    await page.screenshot({ path: path.join(SHOTS, 'explorer-granted-1280.png') });
    await page.close();
  }, 120_000);

  it('shows an auditor those reads in the enterprise\u2019s access history, and the authority\u2019s chart counts them', async () => {
    const page = await watch();
    await signIn(page, 'itd', ['auditor']);
    await open(page, 'audit');
    await page.getByLabel(/统一社会信用代码 \/ 身份证号/).fill(ENT);
    await page.getByRole('button', { name: /查询 Look up/ }).click();
    const timeline = page.getByRole('list', { name: 'access history' });
    await expect.poll(() => timeline.locator('li[data-agency="eeb"][data-coordinate="Enterprise.taxCreditGrade"][data-decision="ALLOW"]').count()).toBeGreaterThan(0);
    expect(await timeline.locator('li[data-agency="eeb"][data-coordinate="Enterprise.taxCreditGrade"][data-decision="DENY"]').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('chain-status').textContent()).toContain('Intact');

    await signIn(page, 'itd', ['coordinator', 'auditor']);
    await open(page, 'authority');
    const byConsumer = page.locator('figure.chart').filter({ hasText: 'By consumer' });
    // The statistics follow the access log; ask again until they have caught up.
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: /更新 Update/ }).click();
        return byConsumer.locator('rect.bar-allowed title').allTextContents();
      }, { timeout: 15_000 })
      .toEqual(expect.arrayContaining([expect.stringMatching(/^eeb: [1-9]\d* allowed$/)]));
    const byDataset = page.locator('figure.chart').filter({ hasText: 'By dataset' });
    expect(await byDataset.locator('rect.bar-allowed title').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^tax\.credit-rating: [1-9]\d* allowed$/)]));
    await page.close();
  }, 90_000);

  it('runs an explorer query with a pasted token and a chosen purpose', async () => {
    const page = await watch();
    await page.goto(`${origin}/graphql?query=${encodeURIComponent(`{ enterprise(uscc: "${ENT}") { name insuredEmployees } }`)}`);
    await page.getByLabel(/令牌 Token/).fill(ex.token('tax'));
    await page.getByRole('button', { name: /使用 Use/ }).click();
    await page.getByLabel(/用途 Purpose/).selectOption('tax-collection');
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect.poll(() => response.innerText(), { timeout: 15_000 }).toMatch(/"insuredEmployees": \d+/);
    await page.close();
  }, 60_000);

  it('loads every page at 1280\u00d7800 and 390 px with no console error and no request to another host', async () => {
    const page = await watch();
    await page.goto(`${origin}/console`);
    const pages: [string, string, string[]][] = [
      ['catalog', 'amr', []],
      ['catalog/tax.credit-rating', 'eeb', []],
      ['mine', 'eeb', []],
      ['inbox', 'tax', []],
      ['members', 'itd', ['coordinator']],
      ['proposals', 'itd', ['coordinator']],
      ['versions', 'itd', ['coordinator']],
      ['authority', 'itd', ['coordinator', 'auditor']],
      ['audit', 'itd', ['auditor']],
      ['policy', 'itd', ['policy-maintainer']],
    ];
    for (const [width, height] of [[1280, 800], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`${origin}/console`);
      const signOut = page.getByRole('button', { name: /退出 Sign out/ });
      if (await signOut.isVisible()) await signOut.click();
      await page.getByRole('heading', { name: /试用/ }).waitFor();
      await page.screenshot({ path: path.join(SHOTS, `signin-${width}.png`), fullPage: true });
      for (const [hash, agency, roles] of pages) {
        await signIn(page, agency, roles);
        await open(page, hash);
        await page.locator('main section.card').first().waitFor();
        if (hash === 'audit') {
          await page.getByLabel(/统一社会信用代码 \/ 身份证号/).fill(ENT);
          await page.getByRole('button', { name: /查询 Look up/ }).click();
          await page.getByRole('list', { name: 'access history' }).waitFor();
        }
        if (hash === 'policy') {
          await page.getByRole('button', { name: /解释 Explain/ }).click();
          await page.getByTestId('explanation').waitFor();
        }
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: path.join(SHOTS, `${hash.replace(/\W+/g, '-')}-${width}.png`), fullPage: true });
        // Nothing on the page may overflow the viewport sideways (tables scroll inside their frame).
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${hash} at ${width} px fits the width`).toBe(true);
      }
      await signIn(page, 'eeb');
      expect(await runInExplorer(page, GRADE_QUERY, 'environmental-enforcement')).toContain('"name"');
      await page.screenshot({ path: path.join(SHOTS, `explorer-${width}.png`) });
    }
    await page.close();
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.foreignRequests()).toEqual([]);
    expect(browser.requests.length).toBeGreaterThan(0);
  }, 180_000);
});
