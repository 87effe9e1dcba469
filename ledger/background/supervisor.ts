import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { ChainShipping } from '../archive/shipper.ts';
import type { LogSink } from '../log/log.ts';
import { isFromBackground, type BackgroundSettings, type ToBackground } from './protocol.ts';

export interface BackgroundOptions {
  readonly settings: BackgroundSettings;
  /** The gateway's log: the background process's lines go there. */
  readonly sink: LogSink;
  /** First wait before a restart, doubled after each quick death up to `maxMs`. */
  readonly restart?: { readonly firstMs: number; readonly maxMs: number };
  /**
   * The background process's nice value. Shipping and backups can wait a little; requests should
   * not, and on a two-core machine the scheduler decides who runs.
   */
  readonly nice?: number;
}

/** What /health shows of the background process and the archive shipper in it. */
export interface BackgroundHealth {
  readonly process: 'starting' | 'running' | 'restarting' | 'stopped';
  /** Restarts since the gateway started (a death is also in the gateway's log, with its cause). */
  readonly restarts: number;
  /**
   * With ARCHIVE_URL: whether this gateway's process is the one shipping (one per archive), and per
   * chain it ships, the last seq archived (and why shipping stopped, if it did).
   */
  readonly archive?: { readonly role: 'shipping' | 'standby'; readonly chains: readonly ChainShipping[] };
}

export interface Background {
  /** Whether a scheduled backup is being made now. */
  backupRunning(): boolean;
  health(): BackgroundHealth;
  stop(): Promise<void>;
}

const DEFAULT_RESTART = { firstMs: 250, maxMs: 30_000 };
/** A process that lived this long counts as healthy again: the next death restarts it at once. */
const STABLE_MS = 60_000;
/** How long a stopping process may take to finish a backup in progress before it is killed. */
const STOP_GRACE_MS = 60_000;
const DEFAULT_NICE = 19;

const ENTRY = path.join(import.meta.dirname, 'main.ts');
/** The background process runs the TypeScript sources as the gateway does, through tsx's loader. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs the archive shipper and the backup schedule in a child process of their own, so that the
 * CPU they take (reading and hashing the log, COPY, compressing and sealing archives) is not taken
 * from the event loop answering requests. It is started with the gateway and stopped with it; if
 * it dies it is started again after a wait that doubles while it keeps dying. Both pieces already
 * continue from durable state (the archive's head, the ledger's claims), so a restart loses or
 * repeats nothing.
 */
export function startBackground(opts: BackgroundOptions): Background {
  const restart = opts.restart ?? DEFAULT_RESTART;
  let child: ChildProcess | null = null;
  let phase: BackgroundHealth['process'] = 'starting';
  let restarts = 0;
  let delayMs = restart.firstMs;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let chains: readonly ChainShipping[] = [];
  let role: 'shipping' | 'standby' = 'standby';
  let backupRunning = false;

  const launch = (): void => {
    timer = null;
    if (stopped) return;
    const startedAt = Date.now();
    const c = fork(ENTRY, ['--instance', opts.settings.instance], { execArgv: ['--import', TSX], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
    child = c;
    if (c.pid !== undefined) {
      try {
        setPriority(c.pid, opts.nice ?? DEFAULT_NICE);
      } catch {
        // Not allowed here: it runs at the gateway's priority, still off its event loop.
      }
    }
    // Whatever it prints outside the IPC channel (a crash's message) belongs in the gateway's log too.
    for (const stream of [c.stdout, c.stderr]) if (stream !== null) createInterface({ input: stream }).on('line', (line) => opts.sink.warn(`background: ${line}`));
    c.on('message', (m: unknown) => {
      if (!isFromBackground(m)) return;
      if (m.type === 'log') {
        if (m.level === 'warn') opts.sink.warn(m.line);
        else opts.sink.info(m.line);
      } else if (m.type === 'started') phase = 'running';
      else {
        chains = m.chains;
        role = m.archiveRole ?? 'standby';
        backupRunning = m.backupRunning;
      }
    });
    c.on('error', (e) => opts.sink.warn(`background: ${e.message}`));
    c.once('exit', (code, signal) => {
      child = null;
      backupRunning = false;
      role = 'standby';
      chains = [];
      if (stopped) {
        phase = 'stopped';
        return;
      }
      if (Date.now() - startedAt >= STABLE_MS) delayMs = restart.firstMs;
      opts.sink.warn(`background: the archive and backup process exited (${signal ?? `code ${code}`}); restarting it in ${delayMs} ms`);
      phase = 'restarting';
      restarts++;
      timer = setTimeout(launch, delayMs);
      delayMs = Math.min(restart.maxMs, delayMs * 2);
    });
    tell(c, { type: 'start', settings: opts.settings });
  };
  launch();

  return {
    backupRunning: () => backupRunning,
    health: () => ({ process: phase, restarts, ...(opts.settings.archiveUrl === null ? {} : { archive: { role, chains } }) }),
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      const c = child;
      if (c === null) {
        phase = 'stopped';
        return;
      }
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      tell(c, { type: 'stop' });
      const kill = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(kill);
    },
  };
}

function tell(c: ChildProcess, m: ToBackground): void {
  // A process that died before it read the message is restarted by its exit handler.
  if (c.connected) c.send(m, (e) => e);
}
