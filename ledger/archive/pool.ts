import { setPriority } from 'node:os';
import pg from 'pg';

/**
 * Connections to the archive. A dropped connection (PostgreSQL restarted, a network cut) is an
 * event the next query sees, never an uncaught error that would take the process down: the pool
 * listens on idle connections only, so every connection also gets a listener of its own, for the
 * moments it is checked out between two queries of a transaction.
 */
export function openArchivePool(url: string, max = 3, opts: { asyncCommit?: boolean } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, query_timeout: 30_000, idleTimeoutMillis: 30_000, ...(opts.asyncCommit === true ? { options: '-c synchronous_commit=off' } : {}) });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/**
 * Concurrent COPY transactions of one shipper. Measured on 2 cores (PostgreSQL beside the
 * exchange), 4 chains: 2 connections ship about a third more records per second than 4, whose
 * backends contend for the same index pages and CPUs while Node prepares the next batches.
 */
export const SHIP_CONNECTIONS = 2;

/**
 * The shipper's connections: SHIP_CONNECTIONS of them, committing with synchronous_commit off (the
 * durable log is the source; a batch lost in a PostgreSQL crash is lost with its chain head, and
 * shipping resumes where the archive ends).
 */
export function openShipperPool(url: string): pg.Pool {
  const pool = openArchivePool(url, SHIP_CONNECTIONS, { asyncCommit: true });
  if (onThisHost(url)) pool.on('connect', (client) => void lowerBackendPriority(client));
  return pool;
}

/** An archive at a loopback address: its PostgreSQL shares this machine's CPUs with the gateway. */
function onThisHost(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * The shipper runs at the lowest CPU priority, and so should the PostgreSQL backend doing its
 * COPY when both are on the gateway's host: otherwise that backend takes the cycles the shipper
 * gave up. Only a process allowed to renice PostgreSQL's (the same user, or root) can; elsewhere
 * this changes nothing, and a remote archive needs nothing.
 */
async function lowerBackendPriority(client: pg.PoolClient): Promise<void> {
  try {
    const r = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = r.rows[0]?.pid;
    if (pid !== undefined) setPriority(pid, 19);
  } catch {
    // Not permitted, or the connection went: the archive is copied all the same.
  }
}
