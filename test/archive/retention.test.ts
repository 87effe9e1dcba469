import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import { startArchiving } from '../../ledger/archive/start.ts';
import { applyRetention, type PartitionDrop } from '../../ledger/archive/retention.ts';
import type { Recorded } from '../../ledger/events.ts';
import { openLedger } from '../../ledger/ledger.ts';
import { createBackup } from '../../ledger/backup/create.ts';
import { checkpointSigner } from '../../ledger/log/witness.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const NOW = new Date('2026-06-15T00:00:00Z');
/** BACKUP_KEY: archives are encrypted with it, and retention reads them to see what they hold. */
const KEY = 'correct horse battery staple 42';

describe('archive retention', () => {
  it('drops a partition older than the retention years only once a verified backup holds every record in it, one partition at a time', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const tmp = mkdtempSync(path.join(tmpdir(), 'archive-retention-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const dataDir = path.join(tmp, 'data');
    const backupDir = path.join(tmp, 'backups');
    const source = { dataDir, policyDir: path.join(ROOT, 'policies'), redisUrl: null, redisPrefix: '' };
    const signer = checkpointSigner(dataDir);
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-1' });
    cleanups.push(() => store.close());
    // January and February 2019 (past five years), then March 2026 (within them).
    const old = (from: number, n: number) => Array.from({ length: n }, (_, i) => seededAccess(from + i, { total: 400, start: '2019-01-01T00:00:00.000Z', spanDays: 50 }));
    await store.append(old(0, 300));
    await store.append(Array.from({ length: 100 }, (_, i) => seededAccess(i, { total: 100, start: '2026-03-01T00:00:00.000Z', spanDays: 20 })));
    const shipper = startArchiving({ archiveUrl: db.url(), dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn() {} }, everyMs: 50 });
    cleanups.push(() => shipper.stop());
    const shipped = (n: number) => until(async () => shipper.chains().find((c) => c.chain === 'gw-1')?.shipped === n, `${n} records archived`);
    await shipped(400);

    const pool = db.pool();
    const count = async (table: string) => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    const partitions = async () => (await pool.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'access_records'::regclass ORDER BY 1`)).rows.map((r) => r.name);
    const ledger = await openLedger({ dataDir, redisUrl: null });
    cleanups.push(() => ledger.close());
    const drops: Recorded[] = [];
    const projection = ledger.project((e) => {
      if (e.type === 'archive.partition.dropped') drops.push(e);
    });
    cleanups.push(() => projection.stop());
    const record = async (drop: PartitionDrop) => {
      await ledger.record({ type: 'archive.partition.dropped', data: drop }, null);
    };
    const retain = () => applyRetention(pool, { years: 5, backupDirs: [backupDir, null], trustedPublicKeyPem: signer.publicKeyPem, backupKey: KEY, now: () => NOW, record });

    // No backup at all: both 2019 partitions are kept, and the verdict says what to do.
    const none = await retain();
    expect(none.map((v) => [v.partition, v.dropped])).toEqual([['access_records_2019_01', false], ['access_records_2019_02', false]]);
    expect(none[0]!.reason).toContain('no verified backup holds its records (audit gw-1 to seq');
    expect(none[0]!.reason).toContain('npm run backup -- create');
    expect(await count('access_records')).toBe(400);
    // The operator's command says the same and exits 1 (the real clock: 2019 is past five years too).
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'cli/archive.ts', 'retain', '--years', '5'], { cwd: ROOT, env: { ...process.env, ARCHIVE_URL: db.url(), DATA_DIR: dataDir, BACKUP_DIR: backupDir, BACKUP_KEY: KEY }, encoding: 'utf8', timeout: 60_000 });
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stdout).toContain('access_records_2019_01: kept: no verified backup holds its records (audit gw-1 to seq');
    expect(cli.stdout).toContain('0 partition(s) dropped, 2 past 5 year(s) kept');
    expect(await count('access_records')).toBe(400);

    // A backup made before the last February 2019 records arrived holds January, not February.
    const first = await createBackup({ source, backupDir, backupKey: KEY, withoutKeys: true, now: () => new Date('2026-06-14T10:00:00Z') });
    await store.append(old(300, 100));
    await shipped(500);
    expect((await retain()).map((v) => [v.partition, v.dropped, v.backup])).toEqual([
      ['access_records_2019_01', true, path.basename(first.file)],
      ['access_records_2019_02', false, null],
    ]);

    // A newer, incremental backup (on the first) that holds them but was damaged does not count either.
    const newer = await createBackup({ source, backupDir, backupKey: KEY, withoutKeys: true, mode: 'incremental', now: () => new Date('2026-06-14T11:00:00Z') });
    expect(newer.manifest.parent).not.toBeNull();
    const intact = readFileSync(newer.file);
    const damaged = Buffer.from(intact);
    damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0x01;
    writeFileSync(newer.file, damaged);
    expect((await retain()).map((v) => [v.partition, v.dropped])).toEqual([['access_records_2019_02', false]]);
    expect(await partitions()).toContain('access_records_2019_02');

    // When the ledger cannot record the drop, nothing is dropped.
    writeFileSync(newer.file, intact);
    await expect(applyRetention(pool, { years: 5, backupDirs: [backupDir, null], trustedPublicKeyPem: signer.publicKeyPem, backupKey: KEY, now: () => NOW, record: () => Promise.reject(new Error('ledger unavailable')) })).rejects.toThrow('ledger unavailable');
    expect(await partitions()).toContain('access_records_2019_02');

    // Intact, the incremental backup with the one it adds to holds every record: February is detached and dropped too, 2026 untouched.
    expect((await retain()).map((v) => [v.partition, v.dropped, v.backup])).toEqual([['access_records_2019_02', true, path.basename(newer.file)]]);
    expect((await partitions()).filter((p) => p.startsWith('access_records_2019'))).toEqual([]);
    expect(await count('access_records')).toBe(100);
    expect(await retain()).toEqual([]);

    // Each removal is in the ledger: the partition, the backup that holds it, and where each chain ended in it.
    await projection.sync();
    expect(drops.map((e) => e.data)).toEqual([
      { table: 'access_records', partition: 'access_records_2019_01', month: '2019-01', backup: path.basename(first.file), chains: [{ chain: 'gw-1', seq: expect.any(Number) as number, hash: expect.stringMatching(/^[0-9a-f]{64}$/) as string }] },
      { table: 'access_records', partition: 'access_records_2019_02', month: '2019-02', backup: path.basename(newer.file), chains: [{ chain: 'gw-1', seq: 500, hash: expect.stringMatching(/^[0-9a-f]{64}$/) as string }] },
    ]);
  });
});
