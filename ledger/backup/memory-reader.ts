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
      const lines = chains.get(chain) ?? [];
      // Records are stored in seq order from 1, so the one after `after` is usually at index `after`.
      const start = Math.min(after, lines.length);
      const from = start > 0 && tailOf(lines[start - 1]!.line)?.seq === start ? start : 0;
      for (let i = from; i < lines.length; i++) {
        const r = lines[i]!;
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
