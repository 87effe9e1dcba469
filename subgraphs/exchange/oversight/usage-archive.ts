import type { Pool } from 'pg';
import { openArchivePool } from '../../../ledger/archive/pool.ts';
import { dailyUsage } from '../../../ledger/archive/usage.ts';
import { UsageCounts, type UsageSource } from './usage.ts';
import { followUsage } from './usage-follower.ts';

/**
 * The statistics from the PostgreSQL archive (ARCHIVE_URL): the daily counts the shipper keeps,
 * summed the same way as the log's. Nothing is read at start and nothing held in memory between
 * questions; a record written in the last second may not be counted yet.
 */
export function archiveUsage(archiveUrl: string): UsageSource {
  let pool: Pool | null = null;
  return {
    async rows(q) {
      pool ??= openArchivePool(archiveUrl, 2);
      const counts = new UsageCounts();
      try {
        for (const d of await dailyUsage(pool, { from: q.from, to: q.to, agency: q.agency })) counts.addDay(d);
      } catch (e) {
        // PostgreSQL's own errors name hosts and ports: the caller gets a sentence.
        const code = (e as { code?: unknown }).code;
        if (typeof code !== 'string') throw e;
        throw new Error(`the usage statistics archive cannot answer now (${code})`, { cause: e });
      }
      return counts.rows(q);
    },
    async close() {
      await pool?.end();
      pool = null;
    },
  };
}


/**
 * Where a deployment's statistics come from: the archive when ARCHIVE_URL is set, else the access
 * log, followed from its start (read once, then as it grows).
 */
export async function usageSource(at: { dataDir: string; redisUrl: string | null; redisPrefix: string; archiveUrl?: string | null }): Promise<UsageSource> {
  if (at.archiveUrl !== undefined && at.archiveUrl !== null) return archiveUsage(at.archiveUrl);
  const follower = followUsage(at, (l) => process.stderr.write(`${l}\n`));
  await follower.sync();
  return follower;
}
