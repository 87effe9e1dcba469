import type { LogRecord } from '../log/chain.ts';
import { tailOf } from '../log/file-log.ts';
import type { LogReader } from '../log/log.ts';

/** A LogReader over lines held in memory (an archive's segments), so verifyChain checks them as it checks a live log. */
export function memoryReader(log: string, chains: ReadonlyMap<string, readonly { line: string; where: string }[]>): LogReader {
  return {
    kind: 'file',
    log,
    chains: () => Promise.resolve([...chains.keys()].sort()),
    read(chain, after, limit) {
      const out: LogRecord[] = [];
      for (const [i, r] of (chains.get(chain) ?? []).entries()) {
        const t = tailOf(r.line);
        const seq = t?.seq ?? i + 1;
        if (seq <= after) continue;
        out.push({ chain, seq, hash: t?.hash ?? '', line: r.line, where: r.where });
        if (out.length >= limit) break;
      }
      return Promise.resolve(out);
    },
    watch: () => () => undefined,
    close: () => Promise.resolve(),
  };
}
