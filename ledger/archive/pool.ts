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
  return openArchivePool(url, SHIP_CONNECTIONS, { asyncCommit: true });
}
