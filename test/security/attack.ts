import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { AuditEntry } from '../../gateway/audit/record.ts';
import { chainLine, type ChainHead } from '../../ledger/log/chain.ts';
import { chainDir, segmentsOf } from '../../ledger/log/file-log.ts';
import { redisKeys } from '../../ledger/log/redis-log.ts';
import { witnessFile, type Checkpoint } from '../../ledger/log/witness.ts';

/**
 * What an insider with access to the log's storage can do, and nothing more: read and write the
 * files under DATA_DIR (the log, its local witness, DATA_DIR/keys) or the Redis keys. No helper
 * here can use the log signing key unless the test hands it over (the stolen-key attack).
 */
export interface Storage {
  /** Every stored line of a chain, in order. */
  lines(chain: string): Promise<string[]>;
  /** Replaces a chain's stored lines (cut, rewrite). */
  replace(chain: string, lines: readonly string[]): Promise<void>;
  /** Appends lines to a chain, moving its head as a writer would. */
  append(chain: string, lines: readonly string[]): Promise<void>;
  /** Removes a chain altogether. */
  remove(chain: string): Promise<void>;
  close(): Promise<void>;
}

const CHAIN_FIELDS = new Set(['instance', 'seq', 'prev', 'from', 'sig', 'hash']);

/** A stored line's body: its own fields without the chain's. */
export function bodyOf(line: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(JSON.parse(line) as Record<string, unknown>).filter(([k]) => !CHAIN_FIELDS.has(k)));
}

export function headOf(line: string): ChainHead {
  const r = JSON.parse(line) as { seq: number; hash: string };
  return { seq: r.seq, hash: r.hash };
}

/** Hash-chains bodies after `head` exactly as the log does, without any signature. */
export function rechain(bodies: readonly Record<string, unknown>[], chain: string, head: ChainHead): string[] {
  const out: string[] = [];
  let h = head;
  for (const b of bodies) {
    const c = chainLine(JSON.stringify(b), chain, h.seq + 1, h.hash);
    out.push(c.line);
    h = { seq: h.seq + 1, hash: c.hash };
  }
  return out;
}

export function fileStorage(dataDir: string, log: string): Storage {
  const segment = async (chain: string): Promise<string> => {
    const dir = chainDir(dataDir, log, chain);
    const segs = await segmentsOf(dir);
    return path.join(dir, segs[segs.length - 1]!);
  };
  return {
    async lines(chain) {
      return readFileSync(await segment(chain), 'utf8').split('\n').filter((l) => l !== '');
    },
    async replace(chain, lines) {
      writeFileSync(await segment(chain), lines.map((l) => `${l}\n`).join(''));
    },
    async append(chain, lines) {
      appendFileSync(await segment(chain), lines.map((l) => `${l}\n`).join(''));
    },
    async remove(chain) {
      rmSync(chainDir(dataDir, log, chain), { recursive: true, force: true });
    },
    async close() {},
  };
}

export function redisStorage(url: string, prefix: string, log: string): Storage {
  const redis = new Redis(url);
  return {
    async lines(chain) {
      const entries = (await redis.xrange(redisKeys(prefix, log, chain).stream, '-', '+')) as [string, string[]][];
      return entries.map(([, f]) => f[1]!);
    },
    async replace(chain, lines) {
      const k = redisKeys(prefix, log, chain);
      await redis.del(k.stream);
      for (const l of lines) await redis.xadd(k.stream, `${headOf(l).seq}-0`, 'r', l);
      const last = lines[lines.length - 1];
      if (last === undefined) await redis.del(k.head);
      else await redis.set(k.head, `${headOf(last).seq}:${headOf(last).hash}`);
    },
    async append(chain, lines) {
      const k = redisKeys(prefix, log, chain);
      for (const l of lines) await redis.xadd(k.stream, `${headOf(l).seq}-0`, 'r', l);
      const last = headOf(lines[lines.length - 1]!);
      await redis.set(k.head, `${last.seq}:${last.hash}`);
    },
    async remove(chain) {
      const k = redisKeys(prefix, log, chain);
      await redis.del(k.stream, k.head);
      await redis.srem(k.chains, chain);
    },
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

/** The local witness file of a chain (DATA_DIR/witness), which the insider can also edit. */
export function localWitness(dataDir: string, log: string, chain: string): { read(): Checkpoint[]; write(c: readonly Checkpoint[]): void; remove(): void } {
  const file = witnessFile(dataDir, log, chain);
  return {
    read: () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Checkpoint),
    write: (c) => writeFileSync(file, c.map((x) => `${JSON.stringify(x)}\n`).join('')),
    remove: () => rmSync(file, { force: true }),
  };
}

/** The i-th of a run of ordinary access entries, one second apart, for a writer to append. */
export function accessEntry(i: number): AuditEntry {
  return {
    ts: new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString(),
    requestId: `req-${i}`,
    operationName: 'Registry',
    operationHash: 'a'.repeat(64),
    sub: 'officer-1',
    agency: 'amr',
    roles: ['officer'],
    purpose: 'market-supervision',
    coordinate: 'Enterprise.name',
    dataset: 'amr.registry',
    provider: 'amr',
    class: 'OPEN',
    decision: 'ALLOW',
    reason: null,
    grantId: null,
    entityKeys: ['91445202MA4W3K7PX2'],
    count: 1,
  };
}
