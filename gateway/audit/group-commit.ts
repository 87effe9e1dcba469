/**
 * Group commit: items added while a commit is in flight wait for the next one, and each commit
 * takes everything queued, so concurrent requests share one fsync (or one Redis round trip).
 * Every add resolves only when the commit that carried it succeeded, and rejects with its error.
 */
export interface GroupCommitter<T> {
  add(item: T): Promise<void>;
  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void>;
}

export function groupCommitter<T>(commit: (batch: readonly T[]) => Promise<void>): GroupCommitter<T> {
  let queue: { item: T; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let running: Promise<void> | null = null;
  const run = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await commit(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
  };
  const kick = (): void => {
    if (running !== null) return;
    running = run().finally(() => {
      running = null;
      if (queue.length > 0) kick();
    });
  };
  return {
    add: (item) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      }),
    async drain() {
      while (running !== null) await running;
    },
  };
}
