import type { Pool } from 'pg';
import type { LogReader } from '../log/log.ts';

export interface ChainStatus {
  readonly log: string;
  readonly chain: string;
  /** The last seq archived. */
  readonly shipped: number;
  readonly shippedAt: string;
  /** Records in the log after `shipped`; null when the chain is not in this deployment's log (seeded, or another site's). */
  readonly lag: number | null;
  readonly problem: string | null;
}

export interface PartitionStatus {
  readonly table: string;
  readonly partition: string;
  /** PostgreSQL's estimate (reltuples), exact after ANALYZE. */
  readonly rows: number;
  /** Table, indexes and TOAST. */
  readonly bytes: number;
}

/** Where every archived chain stands against the log, and the partitions with their sizes. */
export async function archiveStatus(pool: Pool, readers: readonly LogReader[]): Promise<{ chains: ChainStatus[]; partitions: PartitionStatus[] }> {
  const heads = await pool.query<{ log: string; instance: string; seq: string; shipped_at: Date; problem: string | null }>('SELECT log, instance, seq, shipped_at, problem FROM archive_chains ORDER BY log, instance');
  const chains: ChainStatus[] = [];
  const seen = new Set<string>();
  for (const h of heads.rows) {
    const reader = readers.find((r) => r.log === h.log);
    const shipped = Number(h.seq);
    seen.add(`${h.log}/${h.instance}`);
    chains.push({ log: h.log, chain: h.instance, shipped, shippedAt: h.shipped_at.toISOString(), lag: reader === undefined ? null : await recordsAfter(reader, h.instance, shipped), problem: h.problem });
  }
  for (const reader of readers) {
    for (const chain of await reader.chains()) {
      if (!seen.has(`${reader.log}/${chain}`)) chains.push({ log: reader.log, chain, shipped: 0, shippedAt: '-', lag: await recordsAfter(reader, chain, 0), problem: 'not archived yet (is a gateway with ARCHIVE_URL running?)' });
    }
  }
  const parts = await pool.query<{ parent: string; name: string; rows: string; bytes: string }>(`
    SELECT p.relname AS parent, c.relname AS name, greatest(c.reltuples, 0)::bigint AS rows, pg_total_relation_size(c.oid) AS bytes
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname IN ('access_records', 'ledger_events') ORDER BY p.relname, c.relname`);
  return { chains, partitions: parts.rows.map((p) => ({ table: p.parent, partition: p.name, rows: Number(p.rows), bytes: Number(p.bytes) })) };
}

/** Records of the chain after `seq`; null when the log has none at all there and never reached seq. */
async function recordsAfter(reader: LogReader, chain: string, seq: number): Promise<number | null> {
  let n = 0;
  for (let after = seq; ; ) {
    const batch = await reader.read(chain, after, 10_000);
    if (batch.length === 0) break;
    n += batch.length;
    after = batch[batch.length - 1]!.seq;
  }
  if (n === 0 && seq > 0 && (await reader.read(chain, 0, 1)).length === 0) return null;
  return n;
}
