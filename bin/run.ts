import { ConfigError } from '../common/config-values.ts';

/**
 * Reads a configuration or stops the process with one clear line (exit code 1). Free of any
 * component's configuration, so that a host running only subgraphs loads no gateway code.
 */
export function loadedOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (e) {
    die(e instanceof ConfigError ? e.message : `invalid configuration: ${(e as Error).message}`);
  }
}

export function die(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/** The one line a failed start prints: what failed, without a stack. */
export function startFailure(what: string, e: unknown, redisUrl: string | null = null): string {
  const err = e as NodeJS.ErrnoException;
  // ioredis reports a refused or dropped connection as "Connection is closed." without the cause.
  if (redisUrl !== null && (err.code === 'ECONNREFUSED' || /Connection is closed|connect E|Reached the max retries/.test(err.message ?? ''))) {
    const u = new URL(redisUrl);
    return `${what}: cannot reach Redis at ${u.hostname}:${u.port || '6379'} (REDIS_URL); is it running?`;
  }
  if (err.code === 'EADDRINUSE') return `${what}: cannot listen, address in use (${err.message.replace(/^.*EADDRINUSE:?\s*/, '')})`;
  if (err.code === 'EACCES') return `${what}: cannot listen, permission denied`;
  return `${what}: ${err.message ?? String(e)}`;
}

export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
