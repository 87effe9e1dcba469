import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ROOT } from '../helpers/root.ts';

/** A child process of this test, started from the repository's own entry points. */
export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  /** Everything it wrote to stderr so far (its log). */
  log(): string;
  /** SIGCONT (in case it was stopped), SIGTERM, and wait for it to exit; SIGKILL if it will not. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/**
 * Starts `command args` and resolves once its output matches `ready`. Node entry points run as
 * `node --import tsx <file>` (what `npm run` runs, minus the npm and tsx wrapper processes), so
 * that the pid is the server itself and SIGSTOP stops it.
 */
export function startChild(command: string, args: readonly string[], env: Record<string, string>, ready: RegExp): Promise<Child> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (d: Buffer): void => {
    log += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: Child = {
    pid: child.pid!,
    process: child,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (ready.test(log)) {
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve(handle);
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code, signal) => reject(new Error(`${args.join(' ') || command} exited (${code ?? signal}) before it was ready: ${log.slice(-2000)}`)));
  });
}

export function startNode(entry: string, args: readonly string[], env: Record<string, string>, ready: RegExp): Promise<Child> {
  return startChild(process.execPath, ['--import', 'tsx', entry, ...args], env, ready);
}

/** A private Redis for one test (never the machine's shared one), without persistence. */
export function startRedis(port: number): Promise<Child> {
  return startChild('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, /Ready to accept connections/);
}

/** Polls `probe` until it returns true, at most `attempts` times `everyMs` apart: waits for a state change. */
export async function until(probe: () => Promise<boolean>, what: string, attempts = 200, everyMs = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}
