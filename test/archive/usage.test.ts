import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import { startArchiving } from '../../ledger/archive/start.ts';
import { archiveUsage } from '../../subgraphs/exchange/oversight/usage-archive.ts';
import { followUsage } from '../../subgraphs/exchange/oversight/usage-follower.ts';
import type { UsageQuery } from '../../subgraphs/exchange/oversight/usage.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOTAL = 3000;
const YEAR = { from: '2025-01-01', to: '2025-12-31' };
const QUERIES: readonly [string, UsageQuery][] = [
  ['the authority, by provider, consumer, dataset, purpose and quarter', { ...YEAR, groupBy: ['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE', 'QUARTER'], agency: null }],
  ['the authority, one quarter by provider', { from: '2025-04-01', to: '2025-06-30', groupBy: ['PROVIDER'], agency: null }],
  ['the authority, totals only', { ...YEAR, groupBy: [], agency: null }],
  ['tax, by consumer and dataset', { ...YEAR, groupBy: ['CONSUMER', 'DATASET'], agency: 'tax' }],
  ['psb, by purpose and quarter', { ...YEAR, groupBy: ['PURPOSE', 'QUARTER'], agency: 'psb' }],
  // Days are China Standard Time: a window that ends on the last day of a month takes the records of its evening in UTC+8.
  ['hrss, a window of three days', { from: '2025-03-30', to: '2025-04-01', groupBy: ['PROVIDER', 'CONSUMER'], agency: 'hrss' }],
];

describe('usage statistics read from the archive', () => {
  it('give the same figures as the log itself for a seeded history of two gateways, every grouping and scope', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const tmp = mkdtempSync(path.join(tmpdir(), 'archive-usage-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const dataDir = path.join(tmp, 'data');
    for (const [instance, offset] of [['gw-1', 0], ['gw-2', 1]] as const) {
      const store = await openAuditStore({ dataDir, redisUrl: null, instance });
      const mine = Array.from({ length: TOTAL / 2 }, (_, i) => seededAccess(2 * i + offset, { total: TOTAL, spanDays: 365 }));
      for (let i = 0; i < mine.length; i += 500) await store.append(mine.slice(i, i + 500));
      await store.close();
    }
    const shipper = startArchiving({ archiveUrl: db.url(), dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn() {} }, everyMs: 50 });
    cleanups.push(() => shipper.stop());
    await until(async () => shipper.chains().filter((c) => c.log === 'audit').reduce((n, c) => n + c.shipped, 0) === TOTAL, 'the seeded history archived');

    const fromLog = followUsage({ dataDir, redisUrl: null, redisPrefix: '' }, () => undefined);
    cleanups.push(() => fromLog.close());
    const fromArchive = archiveUsage(db.url());
    cleanups.push(() => fromArchive.close());
    for (const [what, q] of QUERIES) {
      const expected = await fromLog.rows(q);
      expect(expected.length, what).toBeGreaterThan(0);
      expect(await fromArchive.rows(q), what).toEqual(expected);
    }
    // Entity searches never read a GIN pending list: every partition's index has fast update off.
    const gin = await db.pool().query<{ name: string; options: string[] | null }>(`
      SELECT c.relname AS name, c.reloptions AS options FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
      JOIN pg_inherits h ON h.inhrelid = i.indrelid WHERE a.amname = 'gin' AND h.inhparent = 'access_records'::regclass`);
    expect(gin.rows.length).toBeGreaterThanOrEqual(12);
    expect(gin.rows.filter((r) => !(r.options ?? []).includes('fastupdate=off'))).toEqual([]);
    // Every record counted once: the last hours of 2025 in UTC are 2026-01-01 in China Standard Time.
    const [total] = await fromArchive.rows({ from: '2025-01-01', to: '2026-01-01', groupBy: [], agency: null });
    expect(total!.allowed + total!.denied).toBe(TOTAL);
  });
});
