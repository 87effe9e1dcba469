import { startElectedArchiving, type ElectedShipper } from '../archive/elected.ts';
import { startBackupSchedule, type BackupSchedule } from '../backup/schedule.ts';
import { watchBackups, type BackupWatch } from '../backup/state.ts';
import { openLedger, type Ledger } from '../ledger.ts';
import type { LogSink } from '../log/log.ts';
import { isToBackground, type BackgroundSettings, type FromBackground } from './protocol.ts';

/**
 * The gateway's background process (forked by `startBackground`): the archive shipper and the
 * backup schedule, away from the process that answers requests. It takes its settings from the
 * gateway over IPC, logs through it, reports its status to it a few times a second, and ends when
 * the gateway asks or when the gateway is gone (the IPC channel closes).
 */
const STATUS_EVERY_MS = 250;

const send = (m: FromBackground): void => {
  if (process.connected) process.send?.(m);
};
const sink: LogSink = {
  info: (line) => send({ type: 'log', level: 'info', line }),
  warn: (line) => send({ type: 'log', level: 'warn', line }),
};

let archive: ElectedShipper | null = null;
let schedule: BackupSchedule | null = null;
let ledger: Ledger | null = null;
let watch: BackupWatch | null = null;
let statusTimer: NodeJS.Timeout | null = null;
let stopping: Promise<void> | null = null;

async function start(settings: BackgroundSettings): Promise<void> {
  const source = { dataDir: settings.dataDir, policyDir: settings.policyDir, redisUrl: settings.redisUrl, redisPrefix: settings.redisPrefix };
  // Behind the durable log, never in front of it: nothing on a request path waits for PostgreSQL.
  if (settings.archiveUrl !== null) archive = startElectedArchiving({ archiveUrl: settings.archiveUrl, ...source, logSigningKey: settings.logSigningKey, sink });
  if (settings.backup !== null) {
    const { intervalMs, ...backupSettings } = settings.backup;
    ledger = await openLedger({ dataDir: settings.dataDir, redisUrl: settings.redisUrl, redisPrefix: settings.redisPrefix, logSigningKey: settings.logSigningKey, witnessUrls: settings.witnessUrls, sink });
    watch = watchBackups(ledger);
    // Any gateway with BACKUP_INTERVAL takes part; the claim on the ledger lets one back up at a time.
    schedule = startBackupSchedule({ ledger, watch, source, settings: backupSettings, intervalMs, by: settings.instance, now: Date.now, sink });
  }
  let last = '';
  statusTimer = setInterval(() => {
    const status: FromBackground = { type: 'status', archiveRole: archive?.role() ?? null, chains: archive?.chains() ?? [], backupRunning: schedule?.running() ?? false };
    const text = JSON.stringify(status);
    if (text !== last) send(status);
    last = text;
  }, STATUS_EVERY_MS);
  send({ type: 'started' });
}

function stop(): Promise<void> {
  stopping ??= (async () => {
    if (statusTimer !== null) clearInterval(statusTimer);
    await schedule?.stop();
    watch?.stop();
    await ledger?.close();
    await archive?.stop();
  })();
  return stopping;
}

const exit = (code: number): void => {
  void stop()
    .catch((e: unknown) => sink.warn(`background: stopping: ${(e as Error).message}`))
    .finally(() => process.exit(code));
};

process.on('message', (m: unknown) => {
  if (!isToBackground(m)) return;
  if (m.type === 'stop') exit(0);
  else
    start(m.settings).catch((e: unknown) => {
      sink.warn(`background: cannot start: ${(e as Error).message}`);
      exit(1);
    });
});
// The gateway is gone (it was killed, or closed the channel): nothing is left to work for.
process.on('disconnect', () => exit(0));
// A terminal's Ctrl-C reaches the whole process group; the gateway stops this process in its turn.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => exit(0));
