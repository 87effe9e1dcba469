/**
 * Group commit: items added while a commit is in flight wait for the next one, and each commit
 * takes everything queued, so concurrent callers share one fsync (or one Redis round trip).
 * Every add resolves with its own result only when the commit that carried it succeeded, and
 * rejects with the commit's error otherwise.
 */
export interface GroupCommitter<T, R> {
  add(item: T): Promise<R>;
  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void>;
}

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

export function groupCommitter<T, R>(commit: (batch: readonly T[]) => Promise<readonly R[]>): GroupCommitter<T, R> {
  let queue: Waiting<T, R>[] = [];
  let running: Promise<void> | null = null;
  const run = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const results = await commit(batch.map((w) => w.item));
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
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
      new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      }),
    async drain() {
      while (running !== null) await running;
    },
  };
}
