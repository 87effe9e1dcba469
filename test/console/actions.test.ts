import path from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { openConsoleBrowser, SHOTS, type ConsoleBrowser } from './chromium.ts';

/**
 * The console from the keyboard alone, and the authority's and agencies' actions in a browser
 * against a real exchange: a refusal overturned on escalation becomes a finding, a case, a
 * suspension the suspended agency meets in the explorer, and a lift; complaints answered and
 * decided; the annual evaluation published.
 */
const ENT = '91445202MA4W3K7PX2';
const COORDINATOR = ['coordinator'];
const FILE = 'mutation($p: String!, $d: [String!]!, $u: [String!]!) { fileSharingRequest(provider: $p, datasets: $d, purposes: $u, legalBasis: "R-11", justification: "环境信用评价", validUntil: "2030-12-31") { id } }';

describe('console actions in a browser', () => {
  let ex: Exchange;
  let browser: ConsoleBrowser;

  /** eeb asks tax for the credit rating, as the walkthrough does, through the exchange's API. */
  async function fileRequest(): Promise<string> {
    const res = await ex.query(FILE, { agency: 'eeb', variables: { p: 'tax', d: ['tax.credit-rating'], u: ['environmental-enforcement'] } });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data?.['fileSharingRequest'] as { id: string }).id;
  }

  beforeAll(async () => {
    ex = await startExchange();
    browser = await openConsoleBrowser(ex);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.close();
  });

  it('signs in with the development picker, opens the inbox and approves a request from the keyboard alone, the focus always visible', async () => {
    const requestId = await fileRequest();
    const page = await browser.newPage();
    await page.goto(`${browser.origin}/console`);
    const focused: { what: string; visible: boolean }[] = [];
    /** Presses a key until the target has the focus, noting how each focused control shows it. */
    const moveTo = async (target: Locator, key = 'Tab'): Promise<void> => {
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press(key);
        focused.push(
          await page.evaluate(() => {
            const el = document.activeElement as HTMLElement;
            const style = getComputedStyle(el);
            return { what: `${el.tagName} ${el.id} ${(el.textContent ?? '').trim().slice(0, 30)}`, visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
          }),
        );
        if (await target.evaluate((el) => el === document.activeElement)) return;
      }
      throw new Error(`${key} never reached ${target.toString()}`);
    };

    const agency = page.getByLabel(/机构 Agency/);
    await moveTo(agency);
    const options = await agency.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const steps = options.indexOf('tax') - options.indexOf(await agency.inputValue());
    for (let i = 0; i < Math.abs(steps); i++) await page.keyboard.press(steps > 0 ? 'ArrowDown' : 'ArrowUp');
    expect(await agency.inputValue()).toBe('tax');
    await moveTo(page.getByRole('button', { name: /以此身份登录 Sign in as/ }));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toContain('tax');
    // The sign-in form is gone: the focus starts at the content, not lost past the end of the page.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');

    await moveTo(page.getByRole('link', { name: /待办 Inbox/ }));
    await page.keyboard.press('Enter');
    const request = page.locator(`article[data-request="${requestId}"]`);
    await request.waitFor();
    const approve = request.getByRole('button', { name: /批准 Approve/ });
    await moveTo(approve);
    await moveTo(request.getByLabel(/Conditions/), 'Shift+Tab');
    await page.keyboard.type('仅用于环境信用评价');
    await moveTo(approve);
    await page.screenshot({ path: path.join(SHOTS, 'keyboard-inbox-1280.png') });
    await page.keyboard.press('Space');

    // The answered request leaves the list; the focus goes to what happened, not to the page's top.
    const notice = page.getByTestId('notice');
    await expect.poll(() => notice.textContent()).toContain(`${requestId}: 已批准 Approved`);
    expect(await notice.evaluate((el) => el === document.activeElement)).toBe(true);
    await expect.poll(() => page.locator('#to-answer').innerText()).toMatch(new RegExp(`${requestId}[\\s\\S]*APPROVED[\\s\\S]*仅用于环境信用评价`));
    expect(focused.filter((f) => !f.visible), JSON.stringify(focused.map((f) => f.what))).toEqual([]);
    expect(focused.length).toBeGreaterThan(3);
    await page.close();
  }, 90_000);

  it('takes a refusal overturned on escalation to a case, a suspension the agency meets in the explorer, and a lift', async () => {
    const requestId = await fileRequest();
    const page = await browser.newPage();
    const read = `{ enterprise(uscc: "${ENT}") { name } }`;

    // tax refuses; eeb escalates; the authority overturns the refusal.
    await browser.signIn(page, 'tax');
    await browser.open(page, 'inbox');
    const inboxItem = page.locator(`article[data-request="${requestId}"]`);
    await inboxItem.getByLabel(/拒绝理由/).fill('评级信息仅限税务用途');
    await inboxItem.getByRole('button', { name: /拒绝 Refuse/ }).click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Refused');

    await browser.signIn(page, 'eeb');
    await browser.open(page, 'mine');
    const mine = page.locator(`article[data-request="${requestId}"]`);
    await mine.getByLabel(/提请理由/).fill('环境信用评价有法定依据');
    await mine.getByRole('button', { name: /提请处理 Escalate/ }).click();
    await expect.poll(() => page.locator('#my-requests').innerText()).toMatch(new RegExp(`${requestId}[\\s\\S]*ESCALATED`));

    await browser.signIn(page, 'itd', COORDINATOR);
    await browser.open(page, 'authority');
    const escalated = page.locator(`article[data-request="${requestId}"]`);
    await escalated.getByLabel(/决定理由/).fill('依据充分，拒绝不成立');
    await escalated.getByRole('button', { name: /Approve \(overturn the refusal\)/ }).click();
    await page.getByRole('button', { name: /确认批准.*Confirm: Approve/ }).click();
    await expect.poll(() => page.locator('#requests').innerText()).toMatch(new RegExp(`${requestId}[\\s\\S]*APPROVED_ON_ESCALATION`));

    // The finding, the case on it, an order to correct by a date.
    const finding = page.getByRole('checkbox', { name: new RegExp(`overturned-${requestId} REFUSAL_OVERTURNED tax`) });
    await finding.check();
    await page.getByLabel(/案情摘要/).fill('无正当理由拒绝共享');
    await page.getByRole('button', { name: /立案 Open a case/ }).click();
    const caseCard = page.locator('article[data-case]').filter({ hasText: '无正当理由拒绝共享' });
    await caseCard.waitFor();
    const caseId = (await caseCard.getAttribute('data-case'))!;
    await expect.poll(() => page.locator('#findings').innerText()).toContain(caseId);
    await caseCard.getByLabel(/整改要求/).fill('建立拒绝审核制度');
    await caseCard.getByLabel(/整改期限/).fill('2099-06-30');
    await caseCard.getByRole('button', { name: /责令整改 Order correction/ }).click();
    await expect.poll(() => caseCard.innerText()).toContain('建立拒绝审核制度（2099-06-30）');

    // A suspension that ends in the past is refused with the exchange's own words; then one that holds.
    await caseCard.getByLabel(/暂停至/).fill('2020-01-01');
    await caseCard.getByLabel(/暂停理由/).fill('逾期未整改');
    await caseCard.getByRole('button', { name: /暂停访问 Suspend access/ }).click();
    await page.getByRole('button', { name: /确认暂停访问/ }).click();
    const refusal = caseCard.getByRole('alert');
    await expect.poll(() => refusal.innerText()).toContain('BAD_USER_INPUT');
    expect(await refusal.innerText()).toContain('until must be in the future');
    expect(await refusal.innerText()).not.toMatch(/\bat \S+\.(ts|js):\d+/);
    await caseCard.getByLabel(/暂停至/).fill('2099-01-01');
    await caseCard.getByLabel(/暂停理由/).fill('逾期未整改');
    await caseCard.getByRole('button', { name: /暂停访问 Suspend access/ }).click();
    await page.getByRole('button', { name: /确认暂停访问/ }).click();
    await expect.poll(() => caseCard.innerText()).toContain('暂停中 SUSPENDED');
    await page.screenshot({ path: path.join(SHOTS, 'authority-case-1280.png'), fullPage: true });

    // tax's read in the explorer is denied SUSPENDED until the suspension is lifted.
    await browser.signIn(page, 'tax');
    const denials = page.getByRole('status').filter({ hasText: 'Denied fields' });
    await expect
      .poll(async () => {
        await browser.runInExplorer(page, read, 'tax-collection');
        return (await denials.count()) > 0 ? denials.innerText() : '';
      }, { timeout: 15_000 })
      .toContain('SUSPENDED');
    await page.screenshot({ path: path.join(SHOTS, 'explorer-suspended-1280.png') });

    await browser.signIn(page, 'itd', COORDINATOR);
    await browser.open(page, 'authority');
    const lift = page.locator(`article[data-case="${caseId}"]`).getByLabel(/的理由/);
    await lift.fill('已按期整改');
    await page.locator(`article[data-case="${caseId}"]`).getByRole('button', { name: /解除暂停/ }).click();
    await expect.poll(() => page.locator(`article[data-case="${caseId}"]`).innerText()).toContain('已解除 lifted');

    await browser.signIn(page, 'tax');
    await expect
      .poll(async () => {
        const result = await browser.runInExplorer(page, read, 'tax-collection');
        return (await denials.count()) === 0 && /"name": "[^"]+"/.test(result);
      }, { timeout: 15_000 })
      .toBe(true);
    await page.close();
  }, 150_000);

  it('has the complained-against agency answer and the authority decide a complaint, then publishes the evaluation after a confirmation', async () => {
    const filed = await ex.query('mutation { fileComplaint(against: "tax", ground: REFUSED, description: "拒绝共享信用评级") { id } }', { agency: 'eeb' });
    expect(filed.body.errors).toBeUndefined();
    const complaintId = (filed.body.data?.['fileComplaint'] as { id: string }).id;
    const page = await browser.newPage();

    await browser.signIn(page, 'tax');
    await browser.open(page, 'inbox');
    const toAnswer = page.locator(`#complaints-to-answer article[data-complaint="${complaintId}"]`);
    await toAnswer.getByLabel(/书面答复/).fill('评级信息仅限税务用途，已说明理由');
    await toAnswer.getByRole('button', { name: /提交答复 Send the answer/ }).click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Send the answer');

    await browser.signIn(page, 'itd', COORDINATOR);
    await browser.open(page, 'authority');
    const toDecide = page.locator(`#complaints article[data-complaint="${complaintId}"]`);
    expect(await toDecide.innerText()).toContain('评级信息仅限税务用途');
    await toDecide.getByRole('button', { name: /投诉成立 Uphold/ }).click();
    expect(await toDecide.getByRole('alert').innerText()).toContain('Write the reasons');
    await toDecide.getByLabel(/决定理由/).fill('拒绝理由不充分');
    await toDecide.getByRole('button', { name: /投诉成立 Uphold/ }).click();
    // Escape or Cancel keeps everything as it was, the focus back on the button; the confirmation asks again.
    const confirmation = page.getByRole('alertdialog');
    expect(await confirmation.innerText()).toContain('cannot be undone');
    await page.keyboard.press('Escape');
    await confirmation.waitFor({ state: 'hidden' });
    expect(await toDecide.getByRole('button', { name: /投诉成立 Uphold/ }).evaluate((el) => el === document.activeElement)).toBe(true);
    await toDecide.getByRole('button', { name: /投诉成立 Uphold/ }).click();
    await page.getByRole('button', { name: /取消 Cancel/ }).click();
    expect(await page.locator('#complaints').innerText()).toMatch(new RegExp(`${complaintId}[\\s\\S]*ANSWERED`));
    await toDecide.getByRole('button', { name: /投诉成立 Uphold/ }).click();
    await page.getByRole('button', { name: /确认投诉成立/ }).click();
    await expect.poll(() => page.locator('#complaints').innerText()).toMatch(new RegExp(`${complaintId}[\\s\\S]*UPHELD`));

    const evaluation = page.locator('#evaluation');
    expect(await evaluation.innerText()).toContain('Not yet published');
    // R-17's datasets overdue stand beside the other facts of each agency's conduct.
    expect(await evaluation.locator('th').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('Datasets overdue')]));
    await evaluation.getByRole('button', { name: /发布 \d{4} 年度考核/ }).click();
    await page.getByRole('button', { name: /确认发布/ }).click();
    await expect.poll(() => evaluation.innerText()).toContain('已发布 published');
    // Published once: what is offered now is a correction, which needs a note.
    await evaluation.getByRole('button', { name: /更正版/ }).click();
    await page.getByRole('button', { name: /确认发布/ }).waitFor({ state: 'hidden' });
    expect(await evaluation.getByRole('alert').innerText()).toContain('Write the note on the correction');
    await page.screenshot({ path: path.join(SHOTS, 'authority-actions-1280.png'), fullPage: true });
    // On a phone the case and its forms stack; nothing overflows the width.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(SHOTS, 'authority-actions-390.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await page.close();
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.foreignRequests()).toEqual([]);
  }, 120_000);
});
