import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * A private redis-server on a free loopback port, for tests that stop, stall or kill Redis: the
 * machine's shared Redis is never touched by those.
 */
export interface PrivateRedis {
  readonly url: string;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis holds the connections but answers nothing. */
  pause(): void;
  resume(): void;
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let proc: ChildProcess | null = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const deadline = Date.now() + 5000;
      for (;;) {
        const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.ping();
          c.disconnect();
          return;
        } catch {
          c.disconnect();
          if (Date.now() > deadline) throw new Error('redis-server did not start');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    pause() {
      proc?.kill('SIGSTOP');
    },
    resume() {
      proc?.kill('SIGCONT');
    },
    async kill() {
      const p = proc;
      proc = null;
      if (p === null || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGCONT');
        p.kill('SIGKILL');
      });
    },
  };
}
