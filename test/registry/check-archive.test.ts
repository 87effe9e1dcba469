import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { ensureSchema } from '../../ledger/archive/schema.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import type { ArchiveShipper } from '../../ledger/archive/shipper.ts';
import { startArchiving } from '../../ledger/archive/start.ts';
import { referenceSubgraphs } from '../../subgraphs/compose.ts';
import { followUsage, type UsageFollower } from '../../subgraphs/exchange/oversight/usage-follower.ts';
import { checkProposal, type CheckDeps } from '../../subgraphs/exchange/registry/check.ts';
import { archiveReads, logReads, type ReadCounts } from '../../subgraphs/exchange/registry/reads.ts';
import { createDatabase, type TestDatabase } from '../archive/database.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../reliability/processes.ts';

const TOTAL = 3000;
const DAY = 86_400_000;
/** The check's clock: the seeded history spans the 150 days before it, so some reads are older than 90 days. */
const NOW = new Date('2025-06-01T04:00:00.000Z');
const START = new Date(NOW.getTime() - 150 * DAY).toISOString();

const amr = referenceSubgraphs(ROOT).find((s) => s.name === 'amr')!;
/** amr stops serving the enterprise's name, which the seeded history reads. */
const withoutName = {
  subgraph: { name: 'amr', member: 'amr', url: amr.url, sdl: amr.sdl.replace(/\n {2}"企业名称"\n {2}name: String @dataset\(id: "amr.enterprise-registration", class: "UNCONDITIONAL"\)/, '') },
  catalog: {},
  note: '',
};

describe('the check of a proposal with the readers counted in the archive', () => {
  let db: TestDatabase;
  let tmp: string;
  let shipper: ArchiveShipper;
  let log: UsageFollower;
  let archive: ReadCounts;
  const deps = (reads: ReadCounts): CheckDeps => ({ grants: { snapshot: () => Promise.resolve({ grants: new Map() }) }, reads, members: { isActive: () => true }, now: () => NOW });

  beforeAll(async () => {
    db = await createDatabase();
    tmp = mkdtempSync(path.join(tmpdir(), 'check-archive-'));
    const dataDir = path.join(tmp, 'data');
    // The history as the gateway's audit store writes it, shipped by the real shipper.
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-1' });
    const records = Array.from({ length: TOTAL }, (_, i) => seededAccess(i, { total: TOTAL, start: START, spanDays: 150 }));
    for (let i = 0; i < records.length; i += 500) await store.append(records.slice(i, i + 500));
    await store.close();
    shipper = startArchiving({ archiveUrl: db.url(), dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn() {} }, everyMs: 50 });
    await until(async () => shipper.chains().filter((c) => c.log === 'audit').reduce((n, c) => n + c.shipped, 0) === TOTAL, 'the seeded history archived');
    log = followUsage({ dataDir, redisUrl: null, redisPrefix: '' }, () => undefined);
    archive = archiveReads(db.url());
  });
  afterAll(async () => {
    await archive.close();
    await log.close();
    await shipper.stop();
    await db.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('names the same readers as the access log, counted over the 90 days before the clock, and says it read the archive', async () => {
    const fromArchive = await checkProposal({ base: null, proposal: withoutName, proposer: 'amr' }, deps(archive));
    const fromLog = await checkProposal({ base: null, proposal: withoutName, proposer: 'amr' }, deps(logReads(log)));
    expect(fromArchive.readsFrom).toBe('archive');
    expect(fromArchive.breakingChanges.map((b) => [b.coordinate, b.change])).toEqual([['Enterprise.name', 'FIELD_REMOVED']]);
    const readers = fromArchive.breakingChanges[0]!.readers;
    expect(readers.length).toBeGreaterThan(1);
    expect(readers).toEqual(fromLog.breakingChanges[0]!.readers);

    // What the counts stand for: the allowed records of the field in the window, counted one by one.
    const counted = await db.pool().query<{ agency: string; n: string }>(
      `SELECT agency, count(*) AS n FROM access_records WHERE coordinate = 'Enterprise.name' AND decision = 'ALLOW'
       AND ((ts AT TIME ZONE 'UTC') + interval '8 hours')::date BETWEEN $1::date AND $2::date GROUP BY agency`,
      ['2025-03-04', '2025-06-01'],
    );
    const all = await db.pool().query<{ n: string }>(`SELECT count(*) AS n FROM access_records WHERE coordinate = 'Enterprise.name' AND decision = 'ALLOW'`);
    expect(Object.fromEntries(readers.map((r) => [r.agency, r.reads]))).toEqual(Object.fromEntries(counted.rows.map((r) => [r.agency, Number(r.n)])));
    expect(readers.reduce((n, r) => n + r.reads, 0)).toBeLessThan(Number(all.rows[0]!.n));
  });

  it('rebuilds the per-field counts from the records for an archive made before they were kept', async () => {
    const before = (await checkProposal({ base: null, proposal: withoutName, proposer: 'amr' }, deps(archive))).breakingChanges[0]!.readers;
    await shipper.stop();
    await db.pool().query('DROP TABLE access_coordinate_daily');
    await ensureSchema(db.pool());
    const after = (await checkProposal({ base: null, proposal: withoutName, proposer: 'amr' }, deps(archive))).breakingChanges[0]!.readers;
    expect(after).toEqual(before);
  });
});
