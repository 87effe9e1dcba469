import type { Recorded } from '../events.ts';
import type { Ledger, Projection } from '../ledger.ts';

/** What the ledger says about backups: the last good one, the last failure, a backup in progress. */
export interface BackupState {
  lastGood: { readonly at: string; readonly archive: string; readonly by: string | null } | null;
  lastFailure: { readonly at: string; readonly reason: string; readonly by: string } | null;
  /** A `backup.started` not yet ended by `backup.created` / `backup.failed` from the same process. */
  claim: { readonly at: string; readonly by: string } | null;
}

export function emptyBackupState(): BackupState {
  return { lastGood: null, lastFailure: null, claim: null };
}

export function foldBackup(s: BackupState, e: Recorded): void {
  if (e.type === 'backup.started') s.claim = { at: e.at, by: e.data.by };
  else if (e.type === 'backup.created') {
    s.lastGood = { at: e.at, archive: e.data.archive, by: e.data.by ?? null };
    if (s.claim !== null && s.claim.by === e.data.by) s.claim = null;
  } else if (e.type === 'backup.failed') {
    s.lastFailure = { at: e.at, reason: e.data.reason, by: e.data.by };
    if (s.claim !== null && s.claim.by === e.data.by) s.claim = null;
  }
}

/** The backup state kept current from the ledger (every gateway sees every process's backups). */
export interface BackupWatch {
  readonly state: BackupState;
  readonly projection: Projection;
  stop(): void;
}

export function watchBackups(ledger: Ledger): BackupWatch {
  const state = emptyBackupState();
  const projection = ledger.project((e) => foldBackup(state, e));
  return { state, projection, stop: () => projection.stop() };
}

/**
 * A claim left by a process that died during a backup lapses after this long; a live backup ends
 * its claim with `backup.created` or `backup.failed` long before.
 */
export const CLAIM_LAPSES_MS = 60 * 60 * 1000;

export class BackupBusyError extends Error {
  override readonly name = 'BackupBusyError';
}

export class BackupNotDueError extends Error {
  override readonly name = 'BackupNotDueError';
}

export interface ClaimOptions {
  /** Who claims: the gateway's instance, or `cli:<host>:<pid>`. */
  readonly by: string;
  readonly now: () => number;
  /**
   * Claim only when the last good backup is at least this old and the last failure at least
   * `retryAfterMs` old (the schedule); null: claim whenever no other backup runs (the command).
   */
  readonly due: { readonly everyMs: number; readonly retryAfterMs: number } | null;
}

/**
 * Claims the next backup with a `backup.started` event, decided on the ledger: the event is
 * recorded only if nothing was recorded since the state was read, so of two gateways deciding at
 * once exactly one claims and the other sees its claim. Throws BackupBusyError while another
 * claim is live, BackupNotDueError when the schedule says not yet.
 */
export async function claimBackup(ledger: Ledger, watch: BackupWatch, opts: ClaimOptions): Promise<void> {
  await ledger.decide(
    watch.projection,
    () => {
      const now = opts.now();
      const { claim, lastGood, lastFailure } = watch.state;
      if (claim !== null && now - Date.parse(claim.at) < CLAIM_LAPSES_MS) {
        throw new BackupBusyError(`another backup is running (started by ${claim.by} at ${claim.at}); try again when it has finished`);
      }
      if (opts.due !== null) {
        if (lastGood !== null && now - Date.parse(lastGood.at) < opts.due.everyMs) throw new BackupNotDueError('not due');
        if (lastFailure !== null && (lastGood === null || lastFailure.at > lastGood.at) && now - Date.parse(lastFailure.at) < opts.due.retryAfterMs) throw new BackupNotDueError('not due');
      }
      return { type: 'backup.started', data: { by: opts.by } };
    },
    null,
  );
}
