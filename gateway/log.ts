import { inspect } from 'node:util';

/** One line per event on stderr; the full detail of masked errors goes here, never to callers. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

export function consoleLogger(name: string): Logger {
  const line = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} [${name}] ${message}\n`);
  };
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m, err) => line('error', err === undefined ? m : `${m}: ${err instanceof Error ? (err.stack ?? err.message) : inspect(err, { breakLength: Infinity })}`),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
