import type { Pool } from 'pg';
import { openArchivePool } from '../../../ledger/archive/pool.ts';
import { coordinateReads } from '../../../ledger/archive/usage.ts';
import type { CoordinateReaders } from '../oversight/usage.ts';
import type { UsageFollower } from '../oversight/usage-follower.ts';

/**
 * Who read which field coordinates over some days, for the check of a proposal: from the access
 * log's running counts (followed in memory) or from the PostgreSQL archive's daily counts. Either
 * way a question sums counts per day and consumer, never the records.
 */
export interface ReadCounts {
  /** "access log" or "archive": what the report says it counted. */
  readonly from: 'access log' | 'archive';
  /** Reads of `coordinates` in days from..to (YYYY-MM-DD, China Standard Time, inclusive). */
  readers(coordinates: readonly string[], days: { readonly from: string; readonly to: string }): Promise<CoordinateReaders[]>;
  close(): Promise<void>;
}

/** The access log's counts, as the exchange's follower keeps them; it reads the rest of the log first. */
export function logReads(follower: Pick<UsageFollower, 'sync' | 'reads'>): ReadCounts {
  return {
    from: 'access log',
    async readers(coordinates, days) {
      await follower.sync();
      return follower.reads.readers(coordinates, days.from, days.to);
    },
    // The follower is the exchange's, shared with the statistics: whoever opened it closes it.
    async close() {},
  };
}

/** The archive's counts (ARCHIVE_URL); a record written in the last second may not be counted yet. */
export function archiveReads(archiveUrl: string): ReadCounts {
  let pool: Pool | null = null;
  return {
    from: 'archive',
    async readers(coordinates, days) {
      pool ??= openArchivePool(archiveUrl, 2);
      try {
        return (await coordinateReads(pool, { coordinates, from: days.from, to: days.to })).map((r) => ({ coordinate: r.coordinate, consumer: r.consumer, reads: r.reads }));
      } catch (e) {
        // PostgreSQL's own errors name hosts and ports: the caller gets a sentence.
        const code = (e as { code?: unknown }).code;
        if (typeof code !== 'string') throw e;
        throw new Error(`the archive cannot count the readers now (${code})`, { cause: e });
      }
    },
    async close() {
      await pool?.end();
      pool = null;
    },
  };
}
