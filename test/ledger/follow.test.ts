import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../../ledger/log/chain.ts';
import { follow } from '../../ledger/log/follow.ts';
import type { LogReader } from '../../ledger/log/log.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** A chain in memory whose reads are counted and whose watcher the test fires by hand. */
function memoryChain(): { reader: LogReader; append(n: number): void; wake(): void; reads(): number } {
  const records: LogRecord[] = [];
  let reads = 0;
  let wake: () => void = () => undefined;
  return {
    reader: {
      kind: 'file',
      log: 'audit',
      chains: () => Promise.resolve(['gw-1']),
      read: (_chain, after, limit) => {
        reads++;
        return Promise.resolve(records.filter((r) => r.seq > after).slice(0, limit));
      },
      watch: (_chain, w) => {
        wake = w;
        return () => undefined;
      },
      close: () => Promise.resolve(),
    },
    append(n) {
      for (let i = 0; i < n; i++) {
        const seq = records.length + 1;
        records.push({ chain: 'gw-1', seq, hash: String(seq), line: '{}', where: `m:${seq}` });
      }
    },
    wake: () => wake(),
    reads: () => reads,
  };
}

describe('following a chain with a read spacing', () => {
  it('reads a chain woken by every one of 50 commits in one read per spacing, delivering every record once and in order', async () => {
    vi.useFakeTimers();
    const m = memoryChain();
    const seen: number[] = [];
    const f = follow(m.reader, 'gw-1', 0, (rs) => seen.push(...rs.map((r) => r.seq)), (e) => {
      throw e;
    }, { spacingMs: 200 });
    await f.sync();
    const before = m.reads();
    for (let i = 0; i < 50; i++) {
      m.append(2);
      m.wake();
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(200);
    // 500 ms of commits: a read at the first wake-up after the sync's, then one per 200 ms.
    expect(m.reads() - before).toBeLessThanOrEqual(4);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    f.stop();
  });

  it('reads at every wake-up without a spacing', async () => {
    const m = memoryChain();
    const seen: number[] = [];
    const f = follow(m.reader, 'gw-1', 0, (rs) => seen.push(...rs.map((r) => r.seq)), (e) => {
      throw e;
    });
    await f.sync();
    const before = m.reads();
    for (let i = 0; i < 5; i++) {
      m.append(1);
      m.wake();
      await f.sync();
    }
    expect(m.reads() - before).toBeGreaterThanOrEqual(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    f.stop();
  });
});
