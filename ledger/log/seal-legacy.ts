import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { sealedLine, sealOf, sealPayload, type ChainHead } from './chain.ts';
import { chainDir, fileLogReader, segmentsOf } from './file-log.ts';
import type { LogKey } from './log-key.ts';
import type { LogReader } from './log.ts';
import { redisKeys, redisLogReader } from './redis-log.ts';
import { verifyChain } from './verify.ts';
import { checkpointSigner, readCheckpoints } from './witness.ts';

/** Where the logs are; the exchange must be stopped while they are sealed. */
export interface LegacyPlace {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
}

export interface LegacyChain {
  readonly log: string;
  readonly chain: string;
  /** The head of the unsealed records the adoption covers. */
  readonly head: ChainHead;
}

export class LegacyRefusedError extends Error {
  override readonly name = 'LegacyRefusedError';
}

function readerOf(at: LegacyPlace, log: string): LogReader {
  return at.redisUrl === null ? fileLogReader(at.dataDir, log) : redisLogReader({ url: at.redisUrl, prefix: at.redisPrefix, log });
}

/**
 * The chains of `log` that hold no seal at all (written before seals existed), each checked
 * against its old local witness: links intact and every checkpoint matching. Refuses a chain that
 * breaks, or one with seals after unsealed records (the exchange ran before it was migrated).
 */
export async function legacyChains(at: LegacyPlace, log: string): Promise<LegacyChain[]> {
  const reader = readerOf(at, log);
  const out: LegacyChain[] = [];
  try {
    for (const chain of await reader.chains()) {
      let sealed = false;
      for (let after = 0; ; ) {
        const batch = await reader.read(chain, after, 10_000);
        if (batch.length === 0) break;
        if (batch.some((r) => sealOf(r.line) !== null)) sealed = true;
        after = batch[batch.length - 1]!.seq;
      }
      if (sealed) continue;
      const r = await verifyChain(reader, chain, readCheckpoints(at.dataDir, log, chain), checkpointSigner(at.dataDir).publicKeyPem);
      if (r.bad !== null) throw new LegacyRefusedError(`${log} chain ${chain} does not verify against its local witness at seq ${r.bad.seq ?? '-'} (${r.bad.why}); nothing was sealed`);
      if (r.head.seq > 0) out.push({ log, chain, head: r.head });
    }
  } finally {
    await reader.close();
  }
  return out;
}

/**
 * Appends `body` to a chain that ends at `head` as one group commit sealed from seq 1: the log
 * key's signature then covers every earlier record through the hash chain. Written straight to
 * the store, so the exchange must be stopped.
 */
export async function appendAdoption(at: LegacyPlace, log: string, chain: string, head: ChainHead, body: string, key: LogKey): Promise<void> {
  const fixed = sealedLine(body, chain, head.seq + 1, head.hash, 1, (signed) => key.sign(sealPayload(log, signed)));
  if (at.redisUrl === null) {
    const dir = chainDir(at.dataDir, log, chain);
    const segs = await segmentsOf(dir);
    await appendFile(path.join(dir, segs[segs.length - 1]!), `${fixed.line}\n`, { flush: true });
    return;
  }
  const redis = new Redis(at.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const k = redisKeys(at.redisPrefix, log, chain);
    await redis.watch(k.head);
    const now = await redis.get(k.head);
    if (now !== `${head.seq}:${head.hash}`) throw new LegacyRefusedError(`${log} chain ${chain} moved on while it was being sealed: stop the exchange and run again`);
    const done = await redis.multi().xadd(k.stream, `${head.seq + 1}-0`, 'r', fixed.line).set(k.head, `${head.seq + 1}:${fixed.hash}`).exec();
    if (done === null) throw new LegacyRefusedError(`${log} chain ${chain} moved on while it was being sealed: stop the exchange and run again`);
  } finally {
    redis.disconnect();
  }
}
