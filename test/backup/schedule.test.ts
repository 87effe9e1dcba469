import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backupHealth } from '../../ledger/backup/schedule.ts';
import { BackupBusyError, claimBackup, emptyBackupState, foldBackup, watchBackups } from '../../ledger/backup/state.ts';
import type { Recorded } from '../../ledger/events.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { ROOT } from '../helpers/root.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { backupCli, linesOf } from './cli.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-schedule-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const KEY = 'scheduled backup key, apart';
type BackupEvent = Extract<Recorded, { type: 'backup.started' | 'backup.created' | 'backup.failed' }>;

/** The backup events of the ledger as they are recorded; `until` resolves when the list satisfies `done`. */
function backupEvents(ledger: Ledger): { events: BackupEvent[]; until: (done: (events: BackupEvent[]) => boolean) => Promise<void>; stop: () => void } {
  const events: BackupEvent[] = [];
  const waiting: { done: (e: BackupEvent[]) => boolean; resolve: () => void }[] = [];
  const projection = ledger.project((e) => {
    if (e.type !== 'backup.started' && e.type !== 'backup.created' && e.type !== 'backup.failed') return;
    events.push(e);
    for (const w of [...waiting]) {
      if (!w.done(events)) continue;
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    events,
    until: (done) => (done(events) ? Promise.resolve() : new Promise((resolve) => waiting.push({ done, resolve }))),
    stop: () => projection.stop(),
  };
}

/** /health as the authority's auditor sees it: with the details an anonymous caller does not get. */
async function health(ex: Exchange): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(ex.url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('backups taken by running gateways on BACKUP_INTERVAL', () => {
  // Three backups by two gateways, each a whole archive: more than the default 30 s on a loaded machine.
  it('two gateways take turns: one backup at a time, each recorded, and /health shows the last good one', async () => {
    const dataDir = path.join(tmp, 'two', 'data');
    const offsite = path.join(tmp, 'two', 'offsite');
    const env = { BACKUP_INTERVAL: '1s', BACKUP_KEY: KEY, BACKUP_DIR: path.join(tmp, 'two', 'backups'), OFFSITE_DIR: offsite, INSTANCE_ID: 'gw-a' };
    const ex = await startExchange({ dataDir, env });
    await ex.startAnotherGateway({ INSTANCE_ID: 'gw-b' });
    const ledger = await openLedger({ dataDir, redisUrl: null });
    const seen = backupEvents(ledger);
    try {
      await seen.until((es) => es.filter((e) => e.type === 'backup.created').length >= 3);
      const h = await health(ex);
      expect(h.status).toBe(200);
      expect(h.body['degraded']).toEqual([]);
      const created = seen.events.filter((e) => e.type === 'backup.created');
      const b = h.body['backup'] as { intervalSeconds: number; lastGood: { archive: string; ageSeconds: number }; stale: boolean };
      expect(b.intervalSeconds).toBe(1);
      expect(b.stale).toBe(false);
      expect(created.map((e) => e.data.archive)).toContain(b.lastGood.archive);
    } finally {
      await ex.close();
      seen.stop();
      await ledger.close();
    }
    // Retention keeps the newest archive of the day, off-site too.
    const newest = seen.events.filter((e) => e.type === 'backup.created').at(-1)!;
    expect(existsSync(path.join(offsite, newest.data.archive))).toBe(true);
    // Every claim ends (created or failed, by the claimer) before the next claim is recorded.
    let open: string | null = null;
    for (const e of seen.events) {
      if (e.type === 'backup.started') {
        expect(open, `a claim by ${e.data.by} while ${open} was backing up`).toBeNull();
        open = e.data.by;
      } else {
        expect(e.type).toBe('backup.created');
        expect(e.data.by).toBe(open);
        open = null;
      }
    }
  }, 90_000);

  it('reports /health degraded (still HTTP 200) when backups fail for longer than twice the interval, saying when the last one failed', async () => {
    const dataDir = path.join(tmp, 'failing', 'data');
    const notADir = path.join(tmp, 'failing', 'a-file');
    mkdirSync(path.dirname(notADir), { recursive: true });
    writeFileSync(notADir, 'BACKUP_DIR cannot be made under a file');
    const ex = await startExchange({ dataDir, env: { BACKUP_INTERVAL: '1s', BACKUP_KEY: KEY, BACKUP_DIR: path.join(notADir, 'backups') } });
    const ledger = await openLedger({ dataDir, redisUrl: null });
    const seen = backupEvents(ledger);
    try {
      await seen.until((es) => es.some((e) => e.type === 'backup.failed'));
      expect(seen.events.find((e) => e.type === 'backup.failed')!.data).toMatchObject({ reason: expect.stringContaining('ENOTDIR') as unknown });
      // Wait for the verdict to change: each failure is a ledger event, the second after the first retry.
      let h = await health(ex);
      for (let i = 0; h.body['status'] === 'ok' && i < 200; i++) {
        const n = seen.events.length;
        await seen.until((es) => es.length > n);
        h = await health(ex);
      }
      // Degraded for the operator, still 200: the gateway serves, a load balancer keeps it.
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ status: 'degraded', degraded: ['backup'], backup: { intervalSeconds: 1, lastGood: null, stale: true, lastFailure: { at: expect.any(String) as unknown } } });
      expect(JSON.stringify(h.body)).not.toContain(tmp);
    } finally {
      await ex.close();
      seen.stop();
      await ledger.close();
    }
  }, 60_000);
});

describe('the backup verdict on /health, by the clock', () => {
  const at = (iso: string): number => Date.parse(iso);
  const state = emptyBackupState();
  foldBackup(state, { type: 'backup.created', data: { archive: 'a.backup', sha256: '', bytes: 1, heads: [], offsite: true, by: 'gw' }, at: '2026-03-01T00:00:00.000Z', actor: null, seq: 1, hash: '' });

  it('reports the age and stays ok up to twice the interval', () => {
    expect(backupHealth(state, 3600, at('2026-03-01T02:00:00Z'), at('2026-02-01T00:00:00Z'), false)).toEqual({ intervalSeconds: 3600, lastGood: { at: '2026-03-01T00:00:00.000Z', archive: 'a.backup', ageSeconds: 7200 }, lastFailure: null, running: false, stale: false });
  });

  it('is stale past twice the interval', () => {
    expect(backupHealth(state, 3600, at('2026-03-01T02:00:01Z'), at('2026-02-01T00:00:00Z'), false).stale).toBe(true);
  });

  it('without any backup, counts from the gateway start', () => {
    const none = emptyBackupState();
    expect(backupHealth(none, 3600, at('2026-03-01T01:59:00Z'), at('2026-03-01T00:00:00Z'), true)).toMatchObject({ lastGood: null, stale: false, running: true });
    expect(backupHealth(none, 3600, at('2026-03-01T02:01:00Z'), at('2026-03-01T00:00:00Z'), true).stale).toBe(true);
  });

  it('is never stale without BACKUP_INTERVAL', () => {
    expect(backupHealth(state, null, at('2027-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), false)).toMatchObject({ intervalSeconds: null, stale: false, lastGood: { ageSeconds: 26438400 } });
  });
});

describe('one backup at a time, whoever starts it', () => {
  it('refuses the backup command while a claim is live, naming who holds it', async () => {
    const dataDir = path.join(tmp, 'busy', 'data');
    const ledger = await openLedger({ dataDir, redisUrl: null });
    const claimed = await ledger.record({ type: 'backup.started', data: { by: 'gw-east' } }, null);
    await ledger.close();
    const r = await backupCli(['create'], { DATA_DIR: dataDir, BACKUP_DIR: path.join(tmp, 'busy', 'backups'), BACKUP_KEY: KEY, POLICY_DIR: path.join(ROOT, 'policies') });
    expect(linesOf(r)).toEqual([`backup: another backup is running (started by gw-east at ${claimed.at}); try again when it has finished`]);
    expect(r.status).toBe(1);
  });

  it('lets a claim whose process died lapse after an hour', async () => {
    const dataDir = path.join(tmp, 'lapse', 'data');
    const ledger = await openLedger({ dataDir, redisUrl: null });
    const watch = watchBackups(ledger);
    try {
      const claimed = await ledger.record({ type: 'backup.started', data: { by: 'gw-died' } }, null);
      const t = Date.parse(claimed.at);
      await expect(claimBackup(ledger, watch, { by: 'gw-b', now: () => t + 59 * 60_000, due: null })).rejects.toBeInstanceOf(BackupBusyError);
      await claimBackup(ledger, watch, { by: 'gw-b', now: () => t + 61 * 60_000, due: null });
      await watch.projection.sync();
      expect(watch.state.claim).toMatchObject({ by: 'gw-b' });
    } finally {
      watch.stop();
      await ledger.close();
    }
  });
});
