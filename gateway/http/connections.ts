import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How many sockets the gateway holds open, and for how long a client may take to send its request.
 * A flood of half-sent requests otherwise holds every file descriptor until the kernel stops
 * accepting, and legitimate callers wait behind it.
 */
export interface ConnectionLimits {
  /** MAX_CONNECTIONS: open sockets in total; beyond it a new one is closed at once. */
  readonly total: number;
  /**
   * MAX_CONNECTIONS_PER_ADDRESS: open sockets from one client address. Behind a reverse proxy
   * every socket comes from the proxy: raise it to the proxy's upstream connection pool.
   */
  readonly perAddress: number;
  /** HEADERS_TIMEOUT_MS: the whole header block must arrive within this. */
  readonly headersTimeoutMs: number;
  /** REQUEST_TIMEOUT_MS: the whole request, body included, must arrive within this. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive socket is closed after this (above a load balancer's usual 60 s). */
  readonly keepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  total: 8192,
  perAddress: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
});

type IntReader = (name: string, fallback: number, min: number, max: number) => number;

/** The limits from the environment, through the configuration's own integer reader. */
export function connectionLimitsFrom(int: IntReader): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  return Object.freeze({
    total: int('MAX_CONNECTIONS', d.total, 1, 1_000_000),
    perAddress: int('MAX_CONNECTIONS_PER_ADDRESS', d.perAddress, 1, 1_000_000),
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 1000, 600_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 1000, 3_600_000),
    keepAliveTimeoutMs: d.keepAliveTimeoutMs,
    idleTimeoutMs: d.idleTimeoutMs,
  });
}

/** How often node:http looks for requests past their deadline; its default of 30 s lets a flood sit that long. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

export interface ConnectionGuard {
  /** Sockets open now. */
  open(): number;
}

/**
 * Applies the timeouts to `server` and counts its sockets on 'connection': one over either cap is
 * destroyed before a byte is read from it, so it costs a file descriptor for a moment only.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, warn: (line: string) => void): ConnectionGuard {
  // One line a minute at most: a flood must not become a flood of log lines.
  let refused = 0;
  let lastWarned = -Infinity;
  const onRefused = (address: string, why: 'total' | 'address'): void => {
    refused++;
    const now = performance.now();
    if (now - lastWarned < 60_000) return;
    lastWarned = now;
    warn(`closing new connections: ${why === 'total' ? `${limits.total} open in total (MAX_CONNECTIONS)` : `${limits.perAddress} open from ${address} (MAX_CONNECTIONS_PER_ADDRESS)`}; ${refused} closed so far`);
  };
  // headersTimeout must not exceed requestTimeout (node:http refuses otherwise).
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  const perAddress = new Map<string, number>();
  let total = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = perAddress.get(address) ?? 0;
    if (total >= limits.total || mine >= limits.perAddress) {
      socket.destroy();
      onRefused(address, total >= limits.total ? 'total' : 'address');
      return;
    }
    total++;
    perAddress.set(address, mine + 1);
    socket.once('close', () => {
      total--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  return { open: () => total };
}
