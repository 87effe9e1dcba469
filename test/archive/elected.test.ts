import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { startElectedArchiving, type ElectedShipper } from '../../ledger/archive/elected.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('one shipper per archive', () => {
  it('lets one of two gateways ship while the other stands by, and the other take over when the first stops, each record archived once', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const tmp = mkdtempSync(path.join(tmpdir(), 'archive-elected-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const dataDir = path.join(tmp, 'data');
    const gwA = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-a' });
    cleanups.push(() => gwA.close());
    const gwB = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-b' });
    cleanups.push(() => gwB.close());
    const start = (): ElectedShipper => {
      const s = startElectedArchiving({ archiveUrl: db.url(), dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn() {} }, everyMs: 50 });
      cleanups.push(() => s.stop());
      return s;
    };
    const archived = async (): Promise<number> => Number((await db.pool().query<{ n: string }>('SELECT count(*) AS n FROM access_records')).rows[0]!.n);

    await gwA.append(Array.from({ length: 100 }, (_, i) => seededAccess(i, { total: 200, spanDays: 30 })));
    await gwB.append(Array.from({ length: 50 }, (_, i) => seededAccess(100 + i, { total: 200, spanDays: 30 })));
    const first = start();
    await until(async () => first.role() === 'shipping', 'the first shipper elected');
    const second = start();
    await until(async () => first.chains().reduce((n, c) => n + (c.log === 'audit' ? c.shipped : 0), 0) === 150, 'both chains archived by the first');
    // The first holds the lock: the second stands by and ships nothing.
    expect(second.role()).toBe('standby');
    expect(second.chains()).toEqual([]);

    await first.stop();
    await until(async () => second.role() === 'shipping', 'the second takes over');
    await gwB.append(Array.from({ length: 50 }, (_, i) => seededAccess(150 + i, { total: 200, spanDays: 30 })));
    await until(async () => second.chains().find((c) => c.chain === 'gw-b')?.shipped === 100, 'the new records archived by the second');
    expect(await archived()).toBe(200);
    const dup = await db.pool().query<{ n: string }>('SELECT count(*) AS n FROM (SELECT instance, seq FROM access_records GROUP BY instance, seq HAVING count(*) > 1) d');
    expect(Number(dup.rows[0]!.n)).toBe(0);
  });
});
