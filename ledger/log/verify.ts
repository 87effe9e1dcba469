import { witnessedLog } from '../witness/client.ts';
import type { Cosigned } from '../witness/statement.ts';
import { EMPTY_HEAD, linkProblem, type ChainHead } from './chain.ts';
import type { LogVerifier } from './log-key.ts';
import type { LogReader } from './log.ts';
import { sealTracker } from './seals.ts';
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

/** A head an off-host witness countersigned: the log must hold exactly this record at this seq. */
export interface CountersignedHead {
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  readonly witness: string;
}

export interface VerifyOptions {
  readonly dataDir: string;
  /** The public half of DATA_DIR's checkpoint key (local checkpoints and witness). */
  readonly publicKeyPem: string | null;
  readonly notes?: readonly string[];
  /** The log key: every record must be covered by its seal. Absent: seals are not checked. */
  readonly seals?: LogVerifier;
  /**
   * WITNESS_URLS: every chain a witness has countersigned must be in the log and hold each
   * countersigned head. An empty list is reported in the notes; absent: not checked (archives).
   */
  readonly witnesses?: readonly string[];
}

export const NO_WITNESS_NOTE = 'no off-host witness is configured (WITNESS_URLS): a rollback of the log together with its local witness, the deletion of a whole chain, and a rewrite re-signed with a stolen log key cannot be detected';

/**
 * Checks every chain of a log: each record links to the one before it and is covered by a seal of
 * the log key, every signed checkpoint matches the record at its seq, the chain reaches its local
 * witness and every head an off-host witness countersigned, and every chain a witness knows is
 * there. So an edit, an insertion, a removal anywhere, the last records included, a forged
 * append, a Redis that lost data, and (with a witness) a rollback or a deleted chain all fail,
 * naming the first bad record.
 */
export async function verifyLog(reader: LogReader, opts: VerifyOptions): Promise<Verification> {
  const notes = [...(opts.notes ?? [])];
  const remote = new Map<string, CountersignedHead[]>();
  if (opts.witnesses !== undefined && opts.witnesses.length === 0) notes.push(NO_WITNESS_NOTE);
  for (const url of opts.witnesses ?? []) {
    if (opts.seals === undefined) throw new Error('checking off-host witnesses needs the log key (seals)');
    let seen: Awaited<ReturnType<typeof witnessedLog>>;
    try {
      seen = await witnessedLog(url, opts.seals.origin, reader.log);
    } catch (e) {
      return { ok: false, records: 0, chains: 0, firstBad: { chain: '*', seq: null, where: `witness ${url}`, why: `the off-host witness cannot be checked (${(e as Error).message}): without its countersigned heads a rollback or a deleted chain would not show` }, notes };
    }
    for (const [chain, heads] of seen.history) {
      const list = remote.get(chain) ?? [];
      list.push(...heads.map((h: Cosigned) => ({ seq: h.seq, hash: h.hash, ts: h.ts, witness: url })));
      remote.set(chain, list);
    }
  }
  const chains = [...new Set([...(await reader.chains()), ...witnessedChains(opts.dataDir, reader.log), ...remote.keys()])].sort();
  let records = 0;
  for (const chain of chains) {
    const r = await verifyChain(reader, chain, readCheckpoints(opts.dataDir, reader.log, chain), opts.publicKeyPem, EMPTY_HEAD, { ...(opts.seals !== undefined ? { seals: opts.seals } : {}), countersigned: remote.get(chain) ?? [] });
    records += r.records;
    if (r.bad !== null) return { ok: false, records, chains: chains.length, firstBad: r.bad, notes };
  }
  return { ok: true, records, chains: chains.length, firstBad: null, notes };
}

/**
 * Checks one chain; `start` is the head the records follow (EMPTY_HEAD: the whole chain; an
 * archive's increment: its parent's head). With `seals`, every record must be covered by a seal
 * of the log key; `countersigned`: heads off-host witnesses countersigned.
 */
export async function verifyChain(
  reader: LogReader,
  chain: string,
  checkpoints: readonly Checkpoint[],
  publicKeyPem: string | null,
  start: ChainHead = EMPTY_HEAD,
  more: { seals?: LogVerifier; countersigned?: readonly CountersignedHead[] } = {},
): Promise<{ records: number; head: ChainHead; bad: BadRecord | null }> {
  const signed = new Map<number, Checkpoint>();
  for (const c of checkpoints) {
    if (publicKeyPem !== null && !checkpointValid(c, publicKeyPem)) {
      return { records: 0, head: EMPTY_HEAD, bad: { chain, seq: c.seq, where: `witness of ${chain}`, why: 'a checkpoint signature does not verify with the exchange key (the witness was forged or edited)' } };
    }
    signed.set(c.seq, c);
  }
  const countersigned = new Map<number, CountersignedHead>();
  for (const c of more.countersigned ?? []) countersigned.set(c.seq, c);
  const seals = more.seals === undefined ? null : sealTracker(reader.log, more.seals);
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
      const w = countersigned.get(rec.seq);
      if (w !== undefined && w.hash !== rec.hash) return { records: count, head, bad: { chain, seq: rec.seq, where: rec.where, why: `differs from the head witness ${w.witness} countersigned at ${w.ts} (the log was rewritten below a countersigned head)` } };
      const forged = seals?.add(rec).forged ?? null;
      if (forged !== null) return { records: count, head, bad: { chain, seq: forged.first, where: forged.where, why: forged.why } };
      head = { seq: rec.seq, hash: rec.hash };
      count++;
    }
  }
  const unsealed = seals?.pending() ?? [];
  if (unsealed.length > 0) {
    const first = unsealed[0]!;
    return { records: count, head, bad: { chain, seq: first.seq, where: first.where, why: `forged: records ${first.seq}..${unsealed[unsealed.length - 1]!.seq} carry no signature of the log key (appended by someone without it)` } };
  }
  const newest = [...signed.values()].reduce<Checkpoint | null>((a, c) => (a === null || c.seq > a.seq ? c : a), null);
  if (newest !== null && newest.seq > head.seq) {
    return {
      records: count,
      head,
      bad: { chain, seq: head.seq + 1, where: `end of ${reader.log} chain ${chain}`, why: `records ${head.seq + 1}..${newest.seq} are missing: the witness signed at ${newest.ts} saw seq ${newest.seq} (the log was cut, or its store lost data)` },
    };
  }
  const top = [...countersigned.values()].reduce<CountersignedHead | null>((a, c) => (a === null || c.seq > a.seq ? c : a), null);
  if (top !== null && top.seq > head.seq) {
    const why = head.seq === 0 ? `the chain is missing: witness ${top.witness} countersigned its head at seq ${top.seq} at ${top.ts} (the chain was deleted)` : `records ${head.seq + 1}..${top.seq} are missing: witness ${top.witness} countersigned seq ${top.seq} at ${top.ts} (the log was rolled back or cut)`;
    return { records: count, head, bad: { chain, seq: head.seq + 1, where: `end of ${reader.log} chain ${chain}`, why } };
  }
  return { records: count, head, bad: null };
}
