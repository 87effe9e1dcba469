import { EMPTY_HEAD, linkProblem, type ChainHead } from './chain.ts';
import type { LogReader } from './log.ts';
import { checkpointValid, readCheckpoints, witnessedChains, type Checkpoint } from './witness.ts';

export interface BadRecord {
  readonly chain: string;
  readonly seq: number | null;
  readonly where: string;
  readonly why: string;
}

export interface Verification {
  readonly ok: boolean;
  readonly records: number;
  readonly chains: number;
  readonly firstBad: BadRecord | null;
  /** Facts worth knowing that are not breaks (e.g. torn tails set aside after a crash). */
  readonly notes: readonly string[];
}

/**
 * Checks every chain of a log: each record links to the one before it, every signed checkpoint
 * matches the record at its seq, and the chain reaches its witness (the newest checkpoint, kept
 * outside the log). So an edit, an insertion, a removal anywhere, the last records included, and
 * a Redis that lost data all fail, naming the first bad record.
 */
export async function verifyLog(reader: LogReader, opts: { dataDir: string; publicKeyPem: string | null; notes?: readonly string[] }): Promise<Verification> {
  const chains = [...new Set([...(await reader.chains()), ...witnessedChains(opts.dataDir, reader.log)])].sort();
  let records = 0;
  for (const chain of chains) {
    const r = await verifyChain(reader, chain, readCheckpoints(opts.dataDir, reader.log, chain), opts.publicKeyPem);
    records += r.records;
    if (r.bad !== null) return { ok: false, records, chains: chains.length, firstBad: r.bad, notes: opts.notes ?? [] };
  }
  return { ok: true, records, chains: chains.length, firstBad: null, notes: opts.notes ?? [] };
}

/** Checks one chain; `start` is the head the records follow (EMPTY_HEAD: the whole chain; an archive's increment: its parent's head). */
export async function verifyChain(reader: LogReader, chain: string, checkpoints: readonly Checkpoint[], publicKeyPem: string | null, start: ChainHead = EMPTY_HEAD): Promise<{ records: number; head: ChainHead; bad: BadRecord | null }> {
  const signed = new Map<number, Checkpoint>();
  for (const c of checkpoints) {
    if (publicKeyPem !== null && !checkpointValid(c, publicKeyPem)) {
      return { records: 0, head: EMPTY_HEAD, bad: { chain, seq: c.seq, where: `witness of ${chain}`, why: 'a checkpoint signature does not verify with the exchange key (the witness was forged or edited)' } };
    }
    signed.set(c.seq, c);
  }
  let head: ChainHead = start;
  let count = 0;
  for (;;) {
    const batch = await reader.read(chain, head.seq, 10_000);
    if (batch.length === 0) break;
    for (const rec of batch) {
      const problem = linkProblem(rec.line, chain, head);
      if (problem !== null) return { records: count, head, bad: { chain, seq: rec.seq, where: rec.where, why: problem } };
      const c = signed.get(rec.seq);
      if (c !== undefined && c.hash !== rec.hash) return { records: count, head, bad: { chain, seq: rec.seq, where: rec.where, why: `differs from the checkpoint signed at ${c.ts} (the log was rewritten from here on)` } };
      head = { seq: rec.seq, hash: rec.hash };
      count++;
    }
  }
  const newest = [...signed.values()].reduce<Checkpoint | null>((a, c) => (a === null || c.seq > a.seq ? c : a), null);
  if (newest !== null && newest.seq > head.seq) {
    return {
      records: count,
      head,
      bad: { chain, seq: head.seq + 1, where: `end of ${reader.log} chain ${chain}`, why: `records ${head.seq + 1}..${newest.seq} are missing: the witness signed at ${newest.ts} saw seq ${newest.seq} (the log was cut, or its store lost data)` },
    };
  }
  return { records: count, head, bad: null };
}
