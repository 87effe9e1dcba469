import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startExchange, type Exchange } from '../helpers/exchange.ts';
import { openConsoleBrowser, SHOTS, type ConsoleBrowser } from './chromium.ts';

/**
 * The registry in the console, in Chromium against a real exchange: the authority's coordinator
 * registers and steps a member; a member checks and proposes its subgraph; the coordinator
 * refuses one proposal and approves another, which publishes a version the versions page shows
 * with its changes; and rolls back to the version before. Each refusal of the exchange (or a
 * missing reason) is shown with what was wrong.
 */
const COORDINATOR = ['coordinator'];
/** A new subgraph of eeb's: one field in a dataset it catalogues with the proposal. */
const NOTICES_SDL = `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])
  @link(url: "https://exchange.gd.gov.cn/sharing/v1.0", import: ["@dataset"])
  @composeDirective(name: "@dataset")

directive @dataset(id: String!, class: String!, sensitivity: String) on FIELD_DEFINITION

type Query {
  "环境执法公告 Environmental enforcement notices"
  environmentalNotices: [String!]! @dataset(id: "eeb.notices", class: "UNCONDITIONAL")
}
`;
const NOTICES_CATALOG = JSON.stringify({
  'eeb.notices': { name: '环境执法公告', nameEn: 'Enforcement notices', description: '公开的环境执法公告', format: 'GraphQL / JSON', frequency: 'DAILY', conditions: '无条件共享', purposes: [], lastUpdate: null },
});
/** tax's subgraph without the credit grade, which amr reads under a grant: a breaking change. */
const TAX_WITHOUT_GRADE = readFileSync(path.join(ROOT, 'subgraphs', 'tax', 'schema.graphql'), 'utf8').replace(/\n\s*"纳税信用等级 \(latest assessment\)"\n\s*taxCreditGrade: TaxCreditGrade\n\s*@dataset[^\n]*/, '');
const ENT = '91445202MA4W3K7PX2';
/** The same with a field of a type nobody defines: it does not compose. */
const BROKEN_SDL = NOTICES_SDL.replace('environmentalNotices: [String!]!', 'environmentalNotices: [Tonnes!]!');

describe('registry pages of the console', () => {
  let ex: Exchange;
  let browser: ConsoleBrowser;
  let page: Page;

  beforeAll(async () => {
    ex = await startExchange();
    browser = await openConsoleBrowser(ex);
    page = await browser.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.close();
  });

  const row = (code: string) => page.locator('#members tbody tr').filter({ has: page.locator('code.member-code', { hasText: new RegExp(`^${code}$`) }) });
  const notice = () => page.getByTestId('notice');
  const errors = (scope: string) => page.locator(`${scope} .errors`);

  it('lists every member for a member without roles, with no control to change them', async () => {
    await browser.signIn(page, 'eeb');
    await browser.open(page, 'members');
    await expect.poll(() => row('tax').innerText()).toMatch(/445200\/tax[\s\S]*国家税务总局揭阳市税务局[\s\S]*Taxation Bureau[\s\S]*active/);
    expect(await page.locator('#register-member, #change-member, #member-steps').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'members-member-1280.png'), fullPage: true });
  }, 60_000);

  it('lets the coordinator register a member, and names what a registration lacks', async () => {
    await browser.signIn(page, 'itd', COORDINATOR);
    await browser.open(page, 'members');
    const form = page.locator('#register-member');
    await form.getByLabel(/代码 Code/).fill('fin');
    await form.getByRole('button', { name: /登记 Register/ }).click();
    await expect.poll(() => errors('#register-member').innerText()).toContain('division code');

    await form.getByLabel(/行政区划代码 Division code/).fill('445200');
    await form.getByLabel(/中文名称 Chinese name/).fill('揭阳市财政局');
    await form.getByLabel(/英文名称 English name/).fill('Finance Bureau');
    await form.getByLabel(/负责人 Responsible person/).fill('李明');
    await form.getByLabel(/联系方式 Contact/).fill('0663-8220000');
    await form.getByRole('button', { name: /登记 Register/ }).click();
    await expect.poll(() => notice().textContent()).toContain('Register');
    await expect.poll(() => row('fin').innerText()).toMatch(/445200\/fin[\s\S]*揭阳市财政局[\s\S]*Finance Bureau[\s\S]*李明[\s\S]*active/);

    // The same code again: the exchange's refusal, with its code.
    await form.getByLabel(/代码 Code/).fill('fin');
    await form.getByLabel(/行政区划代码 Division code/).fill('445200');
    await form.getByLabel(/中文名称 Chinese name/).fill('重复');
    await form.getByLabel(/英文名称 English name/).fill('Duplicate');
    await form.getByLabel(/负责人 Responsible person/).fill('王');
    await form.getByLabel(/联系方式 Contact/).fill('1');
    await form.getByRole('button', { name: /登记 Register/ }).click();
    await expect.poll(() => errors('#register-member').innerText()).toMatch(/[A-Z_]{5,}[\s\S]*fin/);
  }, 60_000);

  it('lets the coordinator change a member\u2019s responsible person and contact, the fields filled with what is recorded', async () => {
    const form = page.locator('#change-member');
    await form.getByLabel(/成员 Member/).selectOption('fin');
    expect(await form.getByLabel(/英文名称 English name/).inputValue()).toBe('Finance Bureau');
    await form.getByLabel(/负责人 Responsible person/).fill('陈静');
    await form.getByLabel(/联系方式 Contact/).fill('0663-8221111');
    await form.getByRole('button', { name: /保存变更 Save the change/ }).click();
    await expect.poll(() => row('fin').innerText()).toMatch(/陈静[\s\S]*0663-8221111/);
  }, 60_000);

  it('suspends, reinstates and retires a member only with written reasons, and filters the list by status', async () => {
    const steps = page.locator('#member-steps');
    await steps.getByLabel(/成员 Member/).selectOption('fin');
    await steps.getByRole('button', { name: /暂停 Suspend/ }).click();
    await expect.poll(() => errors('#member-steps').innerText()).toContain('reasons');

    await steps.getByLabel(/理由/).fill('机构改革，职能划转');
    await steps.getByRole('button', { name: /暂停 Suspend/ }).click();
    await page.getByRole('button', { name: /确认暂停/ }).click();
    await expect.poll(() => row('fin').innerText()).toContain('suspended');
    await page.getByLabel(/状态 Status/).selectOption('SUSPENDED');
    await expect.poll(() => page.locator('#members tbody tr').allInnerTexts()).toEqual([expect.stringContaining('445200/fin')]);
    await page.getByLabel(/状态 Status/).selectOption('');

    await steps.getByLabel(/成员 Member/).selectOption('fin');
    await steps.getByLabel(/理由/).fill('职能恢复');
    await steps.getByRole('button', { name: /恢复 Reinstate/ }).click();
    await expect.poll(() => row('fin').innerText()).toContain('active');

    await steps.getByLabel(/成员 Member/).selectOption('fin');
    await steps.getByLabel(/理由/).fill('机构撤销');
    await steps.getByRole('button', { name: /注销 Retire/ }).click();
    await page.getByRole('button', { name: /确认注销/ }).click();
    await expect.poll(() => row('fin').innerText()).toContain('retired');
    await row('fin').locator('summary').click();
    expect(await row('fin').innerText()).toMatch(/member\.changed[\s\S]*member\.suspended[\s\S]*机构改革[\s\S]*member\.reinstated[\s\S]*member\.retired[\s\S]*机构撤销/);
    // A retired member takes no further step: it is no longer offered.
    expect(await steps.getByLabel(/成员 Member/).locator('option').allInnerTexts()).not.toContainEqual(expect.stringContaining('fin'));
    await page.locator('#members .table-wrap').evaluate((el) => el.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'members-coordinator-1280.png'), fullPage: true });
  }, 60_000);

  it('shows a member the check\u2019s report before it proposes, and enables Propose only for the text checked', async () => {
    await browser.signIn(page, 'eeb');
    await browser.open(page, 'proposals');
    const form = page.getByRole('form', { name: 'propose a subgraph' });
    await form.getByLabel(/子图名称 Subgraph name/).fill('eeb-notices');
    await form.getByLabel(/地址 URL/).fill(ex.subgraphs.get('eeb')!.url);
    await form.getByLabel(/SDL 全文/).fill(BROKEN_SDL);
    await form.getByLabel(/说明/).fill('含错误的草案');
    const propose = form.getByRole('button', { name: /提议 Propose/ });
    expect(await propose.isDisabled()).toBe(true);
    await form.getByRole('button', { name: /检查 Check/ }).click();
    const report = page.getByTestId('check-report');
    await expect.poll(() => report.innerText()).toMatch(/The check fails[\s\S]*Composition errors ✗ \d[\s\S]*Unknown type Tonnes/);
    expect(await propose.isDisabled()).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'proposals-check-1280.png'), fullPage: true });
    await propose.click();
    await expect.poll(() => notice().textContent()).toMatch(/Proposed: \S+ · PENDING/);
    await expect.poll(() => page.locator('#pending-proposals article').innerText()).toContain('含错误的草案');

    await form.getByLabel(/子图名称 Subgraph name/).fill('eeb-notices');
    await form.getByLabel(/地址 URL/).fill(ex.subgraphs.get('eeb')!.url);
    await form.getByLabel(/SDL 全文/).fill(NOTICES_SDL);
    await form.getByLabel(/目录条目/).fill('{ not json');
    await form.getByRole('button', { name: /检查 Check/ }).click();
    await expect.poll(() => form.locator('.errors').innerText()).toContain('not JSON');
    await form.getByLabel(/目录条目/).fill(NOTICES_CATALOG);
    await form.getByLabel(/说明/).fill('增加排放总量');
    await form.getByRole('button', { name: /检查 Check/ }).click();
    await expect.poll(() => report.getByTestId('approvable').innerText()).toContain('approvable');
    await propose.click();
    await expect.poll(() => page.locator('#pending-proposals article').count()).toBe(2);
  }, 90_000);

  it('shows, for a removed field, the grants that name it and the agencies that read it, with their reads', async () => {
    expect(TAX_WITHOUT_GRADE).not.toContain('taxCreditGrade');
    // eeb is granted the grade (the walkthrough's request, approved by tax) and amr reads it.
    const filed = await ex.query('mutation { fileSharingRequest(provider: "tax", datasets: ["tax.credit-rating"], purposes: ["environmental-enforcement"], legalBasis: "R-11", justification: "环境信用评价", validUntil: "2030-12-31") { id } }', { agency: 'eeb' });
    const requestId = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { grantIds } }', { agency: 'tax', variables: { id: requestId } });
    const [grant] = (approved.body.data?.['approveSharingRequest'] as { grantIds: string[] }).grantIds;
    expect(grant).toBeDefined();
    const read = await ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'amr', purpose: 'market-supervision' });
    expect(read.body.errors).toBeUndefined();
    await browser.signIn(page, 'tax');
    await browser.open(page, 'proposals');
    const form = page.getByRole('form', { name: 'propose a subgraph' });
    await form.getByLabel(/子图名称 Subgraph name/).fill('tax');
    await form.getByLabel(/地址 URL/).fill(ex.subgraphs.get('tax')!.url);
    await form.getByLabel(/SDL 全文/).fill(TAX_WITHOUT_GRADE);
    const breaking = page.getByTestId('check-report').getByRole('region', { name: /Breaking changes/ });
    // The readers are counted from the access log as the exchange follows it: check until amr's read is in.
    await expect
      .poll(async () => {
        await form.getByRole('button', { name: /检查 Check/ }).click();
        return breaking.innerText();
      }, { timeout: 20_000 })
      .toMatch(new RegExp(`Enterprise\\.taxCreditGrade[\\s\\S]*REMOVED[\\s\\S]*${grant!}[\\s\\S]*amr[^（]*（[1-9]\\d*）`));
    await page.screenshot({ path: path.join(SHOTS, 'proposals-breaking-1280.png'), fullPage: true });
  }, 60_000);

  it('lets the coordinator refuse a proposal only in writing, and approve one, publishing a version', async () => {
    await browser.signIn(page, 'itd', COORDINATOR);
    await browser.open(page, 'proposals');
    const breaking = page.locator('#pending-proposals article').filter({ hasText: '含错误的草案' });
    await expect.poll(() => breaking.locator('.report').innerText()).toMatch(/Composition errors ✗ \d[\s\S]*Unknown type Tonnes/);
    await breaking.getByRole('button', { name: /拒绝 Refuse/ }).click();
    await expect.poll(() => breaking.locator('.errors').innerText()).toContain('reasons');
    await breaking.getByLabel(/决定理由/).fill('组合失败：类型 Tonnes 未定义');
    await breaking.getByRole('button', { name: /拒绝 Refuse/ }).click();
    await page.getByRole('button', { name: /确认拒绝/ }).click();
    await expect.poll(() => page.locator('#decided-proposals').innerText()).toMatch(/refused[\s\S]*组合失败：类型 Tonnes 未定义/);

    const adding = page.locator('#pending-proposals article').filter({ hasText: '增加排放总量' });
    await adding.getByLabel(/决定理由/).fill('新增字段，无破坏性变更');
    await adding.getByRole('button', { name: /批准并发布 Approve and publish/ }).click();
    await page.getByRole('button', { name: /确认批准并发布/ }).click();
    // Approval composes and publishes: give it longer than a plain answer.
    await expect.poll(() => page.locator('#decided-proposals').innerText(), { timeout: 20_000 }).toMatch(/approved[\s\S]*version 2/);
    await page.screenshot({ path: path.join(SHOTS, 'proposals-coordinator-1280.png'), fullPage: true });
  }, 90_000);

  it('shows every member the versions with their changes, and lets the coordinator roll back with reasons', async () => {
    await browser.signIn(page, 'tax');
    await browser.open(page, 'versions');
    await expect.poll(() => page.getByTestId('current-version').innerText()).toMatch(/Current version: 2/);
    const v2 = page.locator('details[data-changes="2"]');
    await v2.locator('summary').click();
    expect(await v2.innerText()).toMatch(/Query\.environmentalNotices[\s\S]*ADDED/);
    expect(await page.locator('#rollback').count()).toBe(0);

    await browser.signIn(page, 'itd', COORDINATOR);
    await browser.open(page, 'versions');
    const form = page.locator('#rollback');
    await form.getByLabel(/恢复的版本/).selectOption('1');
    await form.getByRole('button', { name: /回退 Roll back/ }).click();
    await expect.poll(() => form.locator('.errors').innerText()).toContain('reasons');
    await form.getByLabel(/回退理由/).fill('排放总量字段待核实');
    await form.getByRole('button', { name: /回退 Roll back/ }).click();
    await page.getByRole('button', { name: /确认回退/ }).click();
    await expect.poll(() => page.getByTestId('current-version').innerText(), { timeout: 20_000 }).toMatch(/Current version: 3/);
    expect(await page.locator('#versions tbody tr').first().innerText()).toMatch(/3[\s\S]*rollback to version 1[\s\S]*排放总量字段待核实/);
    await page.screenshot({ path: path.join(SHOTS, 'versions-coordinator-1280.png'), fullPage: true });
    expect(browser.consoleErrors).toEqual([]);
  }, 90_000);
});
