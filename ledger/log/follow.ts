import type { LogRecord } from './chain.ts';
import type { LogReader } from './log.ts';

export interface Follower {
  /** Resolves once every record in the chain when called has been delivered. */
  sync(): Promise<void>;
  /** The seq of the last record delivered. */
  position(): number;
  stop(): void;
}

const BATCH = 10_000;

export interface FollowOptions {
  /**
   * Fewest milliseconds between two reads that a wake-up starts (default 0: read at once). A
   * follower that need not see each record within milliseconds (the archive, the statistics)
   * reads a busy log in a few large reads instead of one per group commit: each read is file
   * system calls on the thread pool the log's own writes and fsyncs wait for.
   */
  readonly spacingMs?: number;
}

/**
 * Tails one chain: delivers its records after `after`, in order, each exactly once, then keeps
 * delivering as the chain grows. Whatever wakes it (a file event, a Redis message, a reconnect, a
 * poll), it reads on from where it stopped, so a lost wake-up delays a record but never drops it.
 */
export function follow(reader: LogReader, chain: string, after: number, deliver: (records: readonly LogRecord[]) => void, onError: (e: Error) => void, opts: FollowOptions = {}): Follower {
  const spacing = opts.spacingMs ?? 0;
  let offset = after;
  let reading: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let lastRead = 0;
  let later: NodeJS.Timeout | null = null;
  const pump = (): Promise<void> => {
    lastRead = Date.now();
    if (reading !== null) {
      again = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          again = false;
          for (;;) {
            const records = await reader.read(chain, offset, BATCH);
            if (records.length === 0 || stopped) break;
            offset = records[records.length - 1]!.seq;
            deliver(records);
            if (records.length < BATCH) break;
          }
        } while (again && !stopped);
      } catch (e) {
        onError(e as Error);
      } finally {
        // In the same turn as the last `again` check: a later pump starts a read of its own.
        reading = null;
      }
    })();
    return reading;
  };
  const wake = (): void => {
    if (later !== null || stopped) return;
    const wait = lastRead + spacing - Date.now();
    if (wait <= 0) void pump();
    else
      later = setTimeout(() => {
        later = null;
        void pump();
      }, wait);
  };
  const unwatch = reader.watch(chain, wake);
  return {
    async sync() {
      // A read already in flight may have started before the caller's write: read once more.
      if (reading !== null) await reading;
      await pump();
    },
    position: () => offset,
    stop() {
      stopped = true;
      if (later !== null) clearTimeout(later);
      unwatch();
    },
  };
}
