import { watch, type FSWatcher } from 'node:fs';

/**
 * Watches a policy directory and calls `reload` once the files have been quiet for `delayMs`
 * after a change (an editor's save is several events). Returns what stops it.
 */
export function watchPolicyDir(dir: string, delayMs: number, reload: () => void, log: (line: string) => void): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        reload();
      }, delayMs);
    });
  } catch (e) {
    log(`cannot watch ${dir} for changes: ${(e as Error).message}`);
  }
  return {
    close() {
      if (timer !== null) clearTimeout(timer);
      watcher?.close();
    },
  };
}
