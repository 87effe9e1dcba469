import pg from 'pg';

export const PG_PORT = 5432;

/** A database of this test's own on the machine's PostgreSQL, dropped by `drop()`. */
export interface TestDatabase {
  readonly name: string;
  /** postgres://…/<name>, through `port` (a relay) when given. */
  url(port?: number): string;
  /** One pool of the test's own, ended by drop(). */
  pool(): pg.Pool;
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<TestDatabase> {
  const name = `test_archive_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ host: '127.0.0.1', port: PG_PORT, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  let shared: pg.Pool | null = null;
  const url = (port = PG_PORT): string => `postgres://postgres@127.0.0.1:${port}/${name}`;
  return {
    name,
    url,
    pool() {
      if (shared === null) {
        shared = new pg.Pool({ connectionString: url(), max: 2 });
        // DROP ... WITH (FORCE) may still find a connection that end() is closing: that is the
        // drop working, not a failure of the test that used the pool.
        shared.on('error', () => undefined);
      }
      return shared;
    },
    async drop() {
      await shared?.end();
      const a = new pg.Client({ host: '127.0.0.1', port: PG_PORT, user: 'postgres', database: 'postgres' });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
