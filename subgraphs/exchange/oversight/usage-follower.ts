import { fileLogReader } from '../../../ledger/log/file-log.ts';
import { follow, type Follower } from '../../../ledger/log/follow.ts';
import type { LogReader } from '../../../ledger/log/log.ts';
import { redisLogReader } from '../../../ledger/log/redis-log.ts';
import { AccessWatch, type WatchedFacts } from './access-watch.ts';
import { CoordinateReads, UsageCounts, type AccessFacts, type CoordinateFacts, type UsageSource } from './usage.ts';

/** The access log's name in the append-only log (one chain per gateway instance). */
const AUDIT_LOG = 'audit';

export interface UsageFollower extends UsageSource {
  /** Resolves once every record of every chain present when called is counted. */
  sync(): Promise<void>;
  readonly counts: UsageCounts;
  /** Reads per day, field coordinate and consumer (the registry's check of a proposal), on the same pass. */
  readonly reads: CoordinateReads;
  /** Conduct the access log shows, tallied on the same pass. */
  readonly watch: AccessWatch;
  close(): Promise<void>;
}

/** Questions read the rest of the log first (sync), so between them the log is read at most once a second. */
const READ_SPACING_MS = 1_000;

/** Follows every chain of the access log, counting each record once as it is appended (statistics and findings on one pass). */
export function followUsage(at: { dataDir: string; redisUrl: string | null; redisPrefix: string }, warn: (line: string) => void): UsageFollower {
  const reader: LogReader = at.redisUrl === null ? fileLogReader(at.dataDir, AUDIT_LOG) : redisLogReader({ url: at.redisUrl, prefix: at.redisPrefix, log: AUDIT_LOG });
  const counts = new UsageCounts();
  const reads = new CoordinateReads();
  const watch = new AccessWatch();
  const followers = new Map<string, Follower>();
  let lastError = '';
  const onError = (e: Error): void => {
    if (e.message === lastError) return;
    lastError = e.message;
    warn(`usage statistics: cannot read the access log, retrying: ${e.message}`);
  };
  const sync = async (): Promise<void> => {
    // A gateway started since the last question has a chain of its own.
    for (const chain of await reader.chains()) {
      if (followers.has(chain)) continue;
      followers.set(
        chain,
        follow(reader, chain, 0, (records) => {
          for (const r of records) {
            try {
              const facts = JSON.parse(r.line) as AccessFacts & CoordinateFacts & WatchedFacts;
              counts.add(facts);
              reads.add(facts);
              watch.add(chain, r.seq, facts);
            } catch {
              // A torn line is verify's business; it is never counted.
            }
          }
        }, onError, { spacingMs: READ_SPACING_MS }),
      );
    }
    await Promise.all([...followers.values()].map((f) => f.sync()));
  };
  return {
    counts,
    reads,
    watch,
    sync,
    async rows(q) {
      await sync();
      return counts.rows(q);
    },
    async close() {
      for (const f of followers.values()) f.stop();
      followers.clear();
      await reader.close();
    },
  };
}
