import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import { startArchiving } from '../../ledger/archive/start.ts';
import type { ArchiveShipper } from '../../ledger/archive/shipper.ts';
import { chainBatch } from '../../ledger/log/chain.ts';
import { logKey } from '../../ledger/log/log-key.ts';
import { openLedger } from '../../ledger/ledger.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase, type TestDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ db: TestDatabase; dataDir: string; warnings: string[]; ship: () => ArchiveShipper }> {
  const db = await createDatabase();
  cleanups.push(() => db.drop());
  const tmp = mkdtempSync(path.join(tmpdir(), 'archive-test-'));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const dataDir = path.join(tmp, 'data');
  const warnings: string[] = [];
  const ship = (): ArchiveShipper => {
    const s = startArchiving({ archiveUrl: db.url(), dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn: (l) => warnings.push(l) }, everyMs: 50 });
    cleanups.push(() => s.stop());
    return s;
  };
  return { db, dataDir, warnings, ship };
}

async function archivedLines(db: TestDatabase, table: string): Promise<string[]> {
  const r = await db.pool().query<{ line: string }>(`SELECT line FROM ${table} ORDER BY instance, seq`);
  return r.rows.map((x) => x.line);
}

describe('archive shipper', () => {
  it('copies every access record and ledger event into month partitions, with the chain fields, exactly once across a restart', async () => {
    const { db, dataDir, ship } = await setup();
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-a' });
    cleanups.push(() => store.close());
    const ledger = await openLedger({ dataDir, redisUrl: null });
    cleanups.push(() => ledger.close());
    await store.append(Array.from({ length: 300 }, (_, i) => seededAccess(i, { total: 300, spanDays: 70 })));
    await ledger.record({ type: 'dataset.updated', data: { dataset: 'tax.credit-rating', asOf: '2025-01-02' } }, { sub: 'tax-clerk', agency: 'tax' });
    const first = ship();
    await until(async () => first.chains().reduce((n, c) => n + c.shipped, 0) === 301, 'the first 301 records archived');
    await first.stop();
    await store.append(Array.from({ length: 200 }, (_, i) => seededAccess(300 + i, { total: 500, spanDays: 70 })));
    const second = ship();
    await until(async () => second.chains().find((c) => c.chain === 'gw-a')?.shipped === 500, 'the rest archived after a restart');
    const log = (await fileAuditRecords(dataDir)).map((r) => JSON.stringify(r));
    expect(await archivedLines(db, 'access_records')).toEqual(log);
    expect((await archivedLines(db, 'ledger_events')).length).toBe(1);
    const parts = await db.pool().query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'access_records'::regclass ORDER BY 1`);
    expect(parts.rows.map((p) => p.name)).toEqual(expect.arrayContaining(['access_records_2025_01', 'access_records_2025_02', 'access_records_2025_03']));
  });

  it('reports a sequence gap in a chain and archives nothing past it', async () => {
    const { db, dataDir, warnings, ship } = await setup();
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-b' });
    await store.append(Array.from({ length: 5 }, (_, i) => seededAccess(i, { total: 5 })));
    await store.close();
    // A record 7 written (and sealed with the log key) straight after 5: seq 6 is missing from the log.
    const dir = path.join(dataDir, 'audit', 'gw-b');
    const segment = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().pop()!;
    const five = (await fileAuditRecords(dataDir)).at(-1)!;
    const seven = chainBatch([[JSON.stringify(seededAccess(7, { total: 8 }))]], 'gw-b', { seq: 6, hash: five.hash }, { log: 'audit', sign: logKey(dataDir).sign });
    appendFileSync(path.join(dir, segment), `${seven.lines[0]!}\n`);
    const s = ship();
    await until(async () => s.chains().some((c) => c.problem !== null), 'the gap reported');
    expect(s.chains().find((c) => c.chain === 'gw-b')).toMatchObject({ shipped: 5, problem: expect.stringContaining('records 6..6 are missing') as unknown });
    expect(warnings.join('\n')).toMatch(/audit\/gw-b is not continuous/);
    const stored = await db.pool().query<{ problem: string }>(`SELECT problem FROM archive_chains WHERE instance = 'gw-b'`);
    expect(stored.rows[0]!.problem).toMatch(/sequence gap/);
    expect((await archivedLines(db, 'access_records')).length).toBe(5);
  });
});
