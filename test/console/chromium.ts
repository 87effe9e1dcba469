import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT, type Exchange } from '../helpers/exchange.ts';

/** Debian's Chromium, headless; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of each page, looked at by people (git-ignored). */
export const SHOTS = path.join(ROOT, 'test-output', 'console');

export interface ConsoleBrowser {
  readonly origin: string;
  readonly context: BrowserContext;
  /** Every URL any page asked for. */
  readonly requests: readonly string[];
  /** Console errors and uncaught page errors of pages opened with newPage. */
  readonly consoleErrors: readonly string[];
  newPage(): Promise<Page>;
  /** Signs in through the console's development picker (the gateway runs on its development key). */
  signIn(page: Page, agency: string, roles?: readonly string[]): Promise<void>;
  open(page: Page, hash: string): Promise<void>;
  /** Runs a query in the explorer with a purpose and returns the response pane's text. */
  runInExplorer(page: Page, query: string, purpose: string): Promise<string>;
  /** Requests to any host but the exchange. */
  foreignRequests(): string[];
  close(): Promise<void>;
}

/** One Chromium (one profile) for a test file, against a running exchange. */
export async function openConsoleBrowser(ex: Exchange): Promise<ConsoleBrowser> {
  const origin = new URL(ex.url).origin;
  const profile = mkdtempSync(path.join(tmpdir(), 'console-chromium-'));
  mkdirSync(SHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));

  const open = async (page: Page, hash: string): Promise<void> => {
    await page.goto(`${origin}/console#/${hash}`);
  };
  return {
    origin,
    context,
    requests,
    consoleErrors,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
      return page;
    },
    async signIn(page, agency, roles = []) {
      await page.goto(`${origin}/console`);
      const signOut = page.getByRole('button', { name: /退出 Sign out/ });
      if (await signOut.isVisible()) await signOut.click();
      await page.getByLabel(/机构 Agency/).selectOption(agency);
      for (const r of roles) await page.getByRole('checkbox', { name: r, exact: true }).check();
      await page.getByRole('button', { name: /以此身份登录 Sign in as/ }).click();
      await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toContain(agency);
    },
    open,
    async runInExplorer(page, query, purpose) {
      await page.goto(`${origin}/graphql?query=${encodeURIComponent(query)}&purpose=${purpose}`);
      await page.locator('.graphiql-execute-button').click();
      const response = page.locator('.graphiql-response');
      await expect.poll(() => response.innerText(), { timeout: 15_000 }).toMatch(/"data"|"errors"/);
      return response.innerText();
    },
    foreignRequests: () => requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:')),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
