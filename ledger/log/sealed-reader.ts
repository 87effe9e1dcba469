import { hashOf, type LogRecord } from './chain.ts';
import type { LogVerifier } from './log-key.ts';
import type { LogReader } from './log.ts';
import { sealTracker, type SealTracker } from './seals.ts';

/** Records a sealed reader passes over, for the reader's owner to name in a warning. */
export interface Unproven {
  readonly log: string;
  readonly chain: string;
  readonly first: number;
  readonly last: number;
  readonly where: string;
  readonly why: string;
}

const TAIL = /,"seq":(\d+),"prev":"([0-9a-f]{64})"(?:,"from":\d+,"sig":"[A-Za-z0-9+/=]+")?,"hash":"([0-9a-f]{64})"\}$/;
const HASH_TAIL = ',"hash":"'.length + 64 + '"}'.length;

/**
 * Why `rec` is not the record after (seq `afterSeq`, hash `prevHash`) of `chain`, or null. Unlike
 * linkProblem it reads only the chain fields at the end of the line, so a reader that skips most
 * lines unparsed (a filtered audit query) keeps doing so. `prevHash` null: the record before is
 * not known (a read that starts mid-chain) and the link to it is not checked.
 */
function brokenLink(rec: LogRecord, chain: string, afterSeq: number, prevHash: string | null): { why: string; gap: boolean } | null {
  const m = TAIL.exec(rec.line);
  if (m === null) return { why: 'not a record with chain fields (torn or corrupted line)', gap: false };
  const seq = Number(m[1]);
  if (seq !== rec.seq) return { why: `the record says seq ${seq}, stored as ${rec.seq}`, gap: false };
  if (!rec.line.includes(`,"instance":${JSON.stringify(chain)},"seq":${seq},"prev":`)) return { why: 'the record names another chain', gap: false };
  if (hashOf(m[2]!, `${rec.line.slice(0, -HASH_TAIL)}}`) !== m[3]) return { why: 'hash does not match the record (edited)', gap: false };
  if (seq > afterSeq + 1) return { why: `records ${afterSeq + 1}..${seq - 1} are missing`, gap: true };
  if (seq !== afterSeq + 1) return { why: `expected seq ${afterSeq + 1}, found ${seq}`, gap: false };
  if (prevHash !== null && m[2] !== prevHash) return { why: 'prev does not match the record before it', gap: false };
  return null;
}

export interface SealedReader extends LogReader {
  /**
   * Records read at the end of each chain that no seal covers yet. A one-shot reader (the CLI)
   * names them; a live one need not, since a write in flight shows once its seal lands.
   */
  unsealed(): Unproven[];
}

interface ChainState {
  tracker: SealTracker;
  /** Last seq read from the store, and its hash (null when the read started mid-chain). */
  readTo: number;
  readHash: string | null;
  /** Proven records not yet handed out, and the seq of the last one handed out. */
  ready: LogRecord[];
  handedTo: number;
}

/**
 * A reader that hands out only records a valid seal of the log key covers, in order: what anyone
 * without the key appended, inserted or edited is passed over and reported through `skipped`,
 * never shown or shipped. Each group commit's seal is checked once (one signature per durable
 * write); the records in between are checked by their hash links, which the seal's `prev` binds.
 * Records after a chain's last seal wait: a write is one append ending with its seal, so they are
 * either a write still landing or a forged append, and show only once a seal covers them.
 * It keeps each chain's position: make one per query or per follower, never share one between
 * concurrent readers of a chain.
 */
export function sealedReader(inner: LogReader, verifier: LogVerifier, skipped: (u: Unproven) => void): SealedReader {
  const states = new Map<string, ChainState>();
  const fresh = (after: number): ChainState => ({ tracker: sealTracker(inner.log, verifier), readTo: after, readHash: null, ready: [], handedTo: after });
  return {
    kind: inner.kind,
    log: inner.log,
    chains: () => inner.chains(),
    async read(chain, after, limit) {
      let s = states.get(chain);
      // A caller that continues where the last read ended keeps the seals already checked.
      if (s === undefined || s.handedTo !== after) {
        s = fresh(after);
        states.set(chain, s);
      }
      while (s.ready.length < limit) {
        const batch = await inner.read(chain, s.readTo, Math.max(limit, 1000));
        if (batch.length === 0) break;
        for (const rec of batch) {
          const problem = brokenLink(rec, chain, s.readTo, s.readHash);
          if (problem !== null) {
            // What waited for a seal across the break cannot be proven any more; what follows is
            // shown once a seal of its own proves it (verify names the break).
            const pending = s.tracker.pending();
            s.tracker = sealTracker(inner.log, verifier);
            if (problem.gap) {
              if (pending.length > 0) skipped({ log: inner.log, chain, first: pending[0]!.seq, last: pending[pending.length - 1]!.seq, where: pending[0]!.where, why: `no seal covers them before a gap in the chain (${problem.why})` });
              skipped({ log: inner.log, chain, first: s.readTo + 1, last: rec.seq - 1, where: rec.where, why: 'they are missing from the store (lost, or removed)' });
            } else {
              skipped({ log: inner.log, chain, first: pending[0]?.seq ?? rec.seq, last: rec.seq, where: rec.where, why: `the chain breaks at seq ${rec.seq}: ${problem.why}` });
              s.readTo = Math.max(s.readTo, rec.seq);
              s.readHash = null;
              continue;
            }
          }
          s.readTo = rec.seq;
          s.readHash = rec.hash;
          const { proven, forged } = s.tracker.add(rec);
          if (forged !== null) skipped({ log: inner.log, chain, ...forged });
          for (const p of proven) s.ready.push(p);
        }
      }
      const out = s.ready.splice(0, limit);
      if (out.length > 0) s.handedTo = out[out.length - 1]!.seq;
      return out;
    },
    unsealed() {
      const out: Unproven[] = [];
      for (const [chain, s] of states) {
        const p = s.tracker.pending();
        if (p.length > 0) out.push({ log: inner.log, chain, first: p[0]!.seq, last: p[p.length - 1]!.seq, where: p[0]!.where, why: 'no seal covers them yet: a write still landing, or records appended without the log key' });
      }
      return out;
    },
    watch: (chain, wake) => inner.watch(chain, wake),
    close: () => inner.close(),
  };
}
