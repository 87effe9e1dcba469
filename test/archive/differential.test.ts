import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditorScope } from '../../common/auditor-scope.ts';
import { archiveAuditReader, auditReader } from '../../ledger/audit-reader.ts';
import type { AuditFilter } from '../../gateway/audit/store-types.ts';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { seededAccess, seededEntityKey } from '../../ledger/archive/seed.ts';
import { startArchiving } from '../../ledger/archive/start.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Read = (filter: AuditFilter, page: { first: number; after?: string }) => Promise<{ records: readonly object[]; next: string | null }>;

/** Every page of a query, in order, following the cursors. */
async function allPages(read: Read, filter: AuditFilter, first: number): Promise<object[]> {
  const out: object[] = [];
  let after: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = await read(filter, { first, ...(after !== undefined ? { after } : {}) });
    out.push(...page.records);
    if (page.next === null) return out;
    after = page.next;
  }
  throw new Error('too many pages');
}

const TOTAL = 1200;
const FILTERS: readonly [string, AuditFilter][] = [
  ['everything', {}],
  ['one entity key', { entityKey: seededEntityKey(3) }],
  ['an unknown entity key', { entityKey: '91445202000000000Z' }],
  ['one consumer agency', { agency: 'hrss' }],
  ['one dataset, denials only', { dataset: 'tax.tax-payments', decision: 'DENY' }],
  ['one coordinate', { coordinate: 'Person.name' }],
  ['a time window across a month boundary', { since: '2025-01-20T00:00:00.000Z', until: '2025-02-10T12:00:00.000Z' }],
  ['the scope of an auditor of tax', auditorScope('tax')],
  ['the scope of an auditor of psb and one entity', { ...auditorScope('psb'), entityKey: seededEntityKey(7) }],
  ['the scope of an auditor of eeb, a consumer and a window', { ...auditorScope('eeb'), agency: 'amr', since: '2025-02-01T00:00:00.000Z' }],
  ['the scope of the authority', auditorScope('itd')],
];

describe('auditors read the same answers from the archive as from the log', () => {
  it.each([1000, 40])('for a seeded history of two gateways, every filter and scope, in pages of %i', async (first) => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const tmp = mkdtempSync(path.join(tmpdir(), 'archive-diff-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const dataDir = path.join(tmp, 'data');
    for (const [instance, offset] of [['gw-1', 0], ['gw-2', 1]] as const) {
      const store = await openAuditStore({ dataDir, redisUrl: null, instance });
      const mine = Array.from({ length: TOTAL / 2 }, (_, i) => seededAccess(2 * i + offset, { total: TOTAL, spanDays: 75, entities: 40 }));
      for (let i = 0; i < mine.length; i += 100) await store.append(mine.slice(i, i + 100));
      await store.close();
    }
    const shipper = startArchiving({ archiveUrl: db.url(), dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn() {} }, everyMs: 50 });
    cleanups.push(() => shipper.stop());
    await until(async () => shipper.chains().filter((c) => c.log === 'audit').reduce((n, c) => n + c.shipped, 0) === TOTAL, 'the seeded history archived');

    const fromLog = auditReader({ dataDir, redisUrl: null, redisPrefix: '' });
    const fromArchive = archiveAuditReader(db.url());
    cleanups.push(() => fromArchive.close());
    for (const [what, filter] of FILTERS) {
      const expected = await allPages(fromLog, filter, first);
      expect(await allPages(fromArchive, filter, first), what).toEqual(expected);
    }
    // The comparison means something only if an entity's history spans several records.
    expect((await allPages(fromLog, { entityKey: seededEntityKey(3) }, 1000)).length).toBeGreaterThan(5);
  });
});
