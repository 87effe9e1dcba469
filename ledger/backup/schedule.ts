import type { Ledger } from '../ledger.ts';
import type { LogSink } from '../log/log.ts';
import { runBackup, type BackupSettings } from './run.ts';
import type { BackupSource } from './sources.ts';
import { BackupBusyError, BackupNotDueError, type BackupState, type BackupWatch } from './state.ts';

export interface ScheduleOptions {
  readonly ledger: Ledger;
  readonly watch: BackupWatch;
  readonly source: BackupSource;
  readonly settings: BackupSettings;
  readonly intervalMs: number;
  /** This gateway's instance: who claims. */
  readonly by: string;
  readonly now: () => number;
  readonly sink: LogSink;
}

export interface BackupSchedule {
  /** Whether this process is making a backup now. */
  running(): boolean;
  stop(): Promise<void>;
}

/**
 * Backups on BACKUP_INTERVAL from a running gateway. Every gateway with the interval set looks a
 * few times per interval; a backup is due when the last good one (any process's, from the ledger)
 * is an interval old. The claim is decided on the ledger, so when two gateways find it due at
 * once, one backs up and the other sees its claim and waits. A failure is retried after half an
 * interval (at most ten minutes).
 */
export function startBackupSchedule(opts: ScheduleOptions): BackupSchedule {
  const tickMs = Math.min(60_000, Math.max(200, Math.floor(opts.intervalMs / 4)));
  const due = { everyMs: opts.intervalMs, retryAfterMs: Math.min(10 * 60_000, opts.intervalMs / 2) };
  let current: Promise<void> | null = null;
  let stopped = false;
  let lastProblem = '';
  const once = async (): Promise<void> => {
    try {
      const ran = await runBackup({ ...opts, claim: { by: opts.by, now: opts.now, due }, say: () => undefined });
      lastProblem = '';
      const m = ran.created.manifest;
      opts.sink.info(`backup: made ${m.id}${m.parent === null ? '' : ` (incremental on ${m.parent.id})`}, ${ran.created.records} record(s), ${ran.created.bytes} bytes${ran.offsiteFile === null ? '' : ', off-site copy verified'} (ledger event ${ran.eventSeq})`);
    } catch (e) {
      if (e instanceof BackupNotDueError || e instanceof BackupBusyError) return;
      const line = (e as Error).message;
      if (line !== lastProblem) opts.sink.warn(`backup: failed: ${line}`);
      lastProblem = line;
    }
  };
  const timer = setInterval(() => {
    if (stopped || current !== null) return;
    current = once().finally(() => (current = null));
  }, tickMs);
  timer.unref();
  return {
    running: () => current !== null,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}

/** What /health says about backups. */
export interface BackupHealth {
  /** BACKUP_INTERVAL in seconds; null: this gateway takes none (backups by command only). */
  readonly intervalSeconds: number | null;
  readonly lastGood: { readonly at: string; readonly archive: string; readonly ageSeconds: number } | null;
  /** When the newest failure since the last good backup was (the reason is in the gateway log and the ledger). */
  readonly lastFailure: { readonly at: string } | null;
  readonly running: boolean;
  /** Older than twice the interval (or none in twice the interval since this gateway started). */
  readonly stale: boolean;
}

export function backupHealth(state: BackupState, intervalSeconds: number | null, now: number, startedAt: number, running: boolean): BackupHealth {
  const last = state.lastGood;
  const age = last === null ? null : Math.max(0, Math.floor((now - Date.parse(last.at)) / 1000));
  const limitMs = intervalSeconds === null ? null : 2 * intervalSeconds * 1000;
  const stale = limitMs !== null && (last === null ? now - startedAt > limitMs : now - Date.parse(last.at) > limitMs);
  const failure = state.lastFailure !== null && (last === null || state.lastFailure.at > last.at) ? { at: state.lastFailure.at } : null;
  return { intervalSeconds, lastGood: last === null ? null : { at: last.at, archive: last.archive, ageSeconds: age! }, lastFailure: failure, running, stale };
}
