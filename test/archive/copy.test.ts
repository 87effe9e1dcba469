import { afterEach, describe, expect, it } from 'vitest';
import { chainLine, EMPTY_HEAD, type ChainHead, type LogRecord } from '../../ledger/log/chain.ts';
import { archivedHead, prepareBatch, shipBatch } from '../../ledger/archive/insert.ts';
import { microsOf } from '../../ledger/archive/copy.ts';
import { ensurePartitions, ensureSchema } from '../../ledger/archive/schema.ts';
import { createDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Records of one chain from bodies given as objects (a stored line is the body with its chain fields). */
function chainOf(chain: string, bodies: readonly object[]): LogRecord[] {
  let head: ChainHead = EMPTY_HEAD;
  return bodies.map((b, i) => {
    const { line, hash } = chainLine(JSON.stringify(b), chain, i + 1, head.hash);
    head = { seq: i + 1, hash };
    return { chain, seq: i + 1, hash, line, where: `test:${i + 1}` };
  });
}

const access = (over: object): object => ({
  ts: '2026-03-01T00:00:00.000Z',
  agency: 'tax',
  purpose: 'tax-collection',
  coordinate: 'Enterprise.name',
  dataset: 'amr.enterprise-registry',
  provider: 'amr',
  decision: 'ALLOW',
  entityKeys: ['91445200000000001X'],
  ...over,
});

describe('archive rows', () => {
  it('stores every column as PostgreSQL reads the same record as text: microseconds, offsets, non-ASCII, quotes, nulls, no keys, a row larger than the buffer made for its batch', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const pool = db.pool();
    await ensureSchema(pool);
    await ensurePartitions(pool, 'access_records', ['2026-02', '2026-03']);
    const bodies = [
      access({ ts: '2026-03-01T08:00:00.123456+08:00', purpose: '环境执法', agency: '市场监管局' }),
      access({ ts: '2026-03-01T00:00:00.5Z', purpose: null, dataset: null, provider: null, entityKeys: [] }),
      access({ ts: '2026-02-28T23:59:59.999999Z', entityKeys: ['a"b', 'c\\d', 'tab\there', '身份证 440000'], coordinate: 'Person.name' }),
      // Larger than the buffer made for the whole batch: it grows mid-row.
      access({ purpose: '环'.repeat(3000), entityKeys: Array.from({ length: 200 }, (_, k) => `9144520000000${String(k).padStart(4, '0')}X`) }),
    ];
    const records = chainOf('gw-1', bodies);
    await archivedHead(pool, 'audit', 'gw-1');
    const batch = await prepareBatch('audit', 'gw-1', EMPTY_HEAD, records);
    expect(batch.problem).toBeNull();
    await shipBatch(pool, batch);

    const rows = await pool.query<Record<string, unknown>>(`SELECT seq, ts = (line::json->>'ts')::timestamptz AS same_ts, agency, purpose, coordinate, dataset, provider, decision, entity_keys, prev, hash FROM access_records ORDER BY seq`);
    expect(rows.rows.map((r) => r['same_ts'])).toEqual([true, true, true, true]);
    expect(rows.rows.map((r) => [r['agency'], r['purpose'], r['coordinate'], r['dataset'], r['provider'], r['decision'], r['entity_keys']])).toEqual(
      bodies.map((b) => {
        const x = b as Record<string, unknown>;
        return [x['agency'], x['purpose'], x['coordinate'], x['dataset'], x['provider'], x['decision'], x['entityKeys']];
      }),
    );
    expect(rows.rows.map((r) => [Number(r['seq']), r['hash']])).toEqual(records.map((r) => [r.seq, r.hash]));
    expect(rows.rows[0]!['prev']).toBe(EMPTY_HEAD.hash);
  });

  it('stops a batch before a linked record that cannot be a row, naming the missing field', async () => {
    const records = chainOf('gw-1', [access({}), access({ agency: null }), access({})]);
    const batch = await prepareBatch('audit', 'gw-1', EMPTY_HEAD, records);
    expect(batch.records.map((r) => r.seq)).toEqual([1]);
    expect(batch.problem).toBe('after seq 1: the record has no agency (test:2)');
    const late = await prepareBatch('audit', 'gw-1', EMPTY_HEAD, chainOf('gw-1', [access({ ts: 'yesterday' })]));
    expect(late.problem).toBe('after seq 0: ts is not a time (test:1)');
  });

  it('reads an ISO time to the microsecond, whatever its offset', () => {
    expect(microsOf('2026-03-01T00:00:00.000Z')).toBe(Date.UTC(2026, 2, 1) * 1000);
    expect(microsOf('2026-03-01T08:00:00.123456+08:00')).toBe(Date.UTC(2026, 2, 1) * 1000 + 123_456);
    expect(microsOf('1969-12-31T23:59:59.999500Z')).toBe(-500);
    expect(microsOf('yesterday')).toBeNaN();
  });
});
