import { afterEach, describe, expect, it } from 'vitest';
import { auditBody } from '../../gateway/audit/record.ts';
import { chainLine, EMPTY_HEAD, type LogRecord } from '../../ledger/log/chain.ts';
import { archivedHead, prepareBatch, shipBatch } from '../../ledger/archive/insert.ts';
import { ensureSchema } from '../../ledger/archive/schema.ts';
import { seededAccess } from '../../ledger/archive/seed.ts';
import { accessQuery, queryArchive } from '../../ledger/archive/query.ts';
import { createDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The access table as the first archives made it: every field of a record also a column, several NOT NULL. */
const EARLIER_TABLE = `
CREATE TABLE access_records (
  ts timestamptz NOT NULL, instance text COLLATE "C" NOT NULL, seq bigint NOT NULL, prev text NOT NULL, hash text NOT NULL,
  request_id text, operation_name text, sub text, agency text NOT NULL, roles text[] NOT NULL, purpose text,
  coordinate text NOT NULL, dataset text, provider text, class text, decision text NOT NULL, reason text, grant_id text,
  entity_keys text[] NOT NULL, count integer NOT NULL, line text NOT NULL,
  PRIMARY KEY (instance, seq, ts)
) PARTITION BY RANGE (ts)`;

function chainOf(chain: string, n: number): LogRecord[] {
  const out: LogRecord[] = [];
  let prev = EMPTY_HEAD.hash;
  for (let seq = 1; seq <= n; seq++) {
    const { line, hash } = chainLine(auditBody(seededAccess(seq, { total: n, spanDays: 20 })), chain, seq, prev);
    out.push({ chain, seq, hash, line, where: `test:${seq}` });
    prev = hash;
  }
  return out;
}

describe('archive schema', () => {
  it('takes an archive made with the earlier wide access table and ships into it, the unqueried columns dropped', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const pool = db.pool();
    await pool.query(EARLIER_TABLE);
    await ensureSchema(pool);
    const columns = (await pool.query<{ name: string }>(`SELECT attname AS name FROM pg_attribute WHERE attrelid = 'access_records'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).rows.map((r) => r.name);
    expect(columns).toEqual(['ts', 'instance', 'seq', 'prev', 'hash', 'agency', 'purpose', 'coordinate', 'dataset', 'provider', 'decision', 'entity_keys', 'line']);

    const records = chainOf('gw-old', 30);
    await archivedHead(pool, 'audit', 'gw-old');
    await shipBatch(pool, await prepareBatch('audit', 'gw-old', EMPTY_HEAD, records));
    const back = await queryArchive(pool, {}, { first: 100 });
    expect(back.records.map((r) => JSON.stringify(r))).toEqual(records.map((r) => JSON.stringify(JSON.parse(r.line))));
  });

  it("answers an auditor's page, first or after a cursor, straight from the time-ordered key without sorting", async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const pool = db.pool();
    await ensureSchema(pool);
    const records = chainOf('gw-1', 300);
    await archivedHead(pool, 'audit', 'gw-1');
    await shipBatch(pool, await prepareBatch('audit', 'gw-1', EMPTY_HEAD, records));
    await pool.query('ANALYZE access_records');
    const first = await queryArchive(pool, {}, { first: 50 });
    const c = await pool.connect();
    try {
      // A few hundred rows would be read whole; the plan a big archive gets is the one with the table scan ruled out.
      await c.query('SET enable_seqscan = off');
      for (const page of [{ first: 50 }, { first: 50, after: first.next! }]) {
        const q = accessQuery({}, page);
        const plan = JSON.stringify((await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values)).rows[0]!['QUERY PLAN']);
        expect(plan).toContain('"Index Name":"access_records_');
        expect(plan).not.toMatch(/"Node Type":"(Incremental )?Sort"/);
      }
    } finally {
      c.release();
    }
  });

  it('stops a batch before a record that does not link and names it, shipping the records before it', async () => {
    const records = chainOf('gw-1', 10);
    const edited = { ...records[6]!, line: records[6]!.line.replace('"decision":"', '"decision":"X') };
    const batch = await prepareBatch('audit', 'gw-1', EMPTY_HEAD, [...records.slice(0, 6), edited, ...records.slice(7)]);
    expect(batch.records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batch.to).toEqual({ seq: 6, hash: records[5]!.hash });
    expect(batch.problem).toBe('after seq 6: hash does not match the record (the record was edited) (test:7)');
  });
});
