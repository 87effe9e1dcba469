import { sealOf, sealPayload, type LogRecord } from './chain.ts';
import type { LogVerifier } from './log-key.ts';

/** Records that no valid seal of the log key covers: written by someone without the key. */
export interface Forged {
  readonly first: number;
  readonly last: number;
  readonly where: string;
  readonly why: string;
}

export interface SealTracker {
  /**
   * Takes the next record of the chain; returns the records a valid seal has just proven (in
   * order) and the runs it has just shown to be forged. Records wait until the seal that closes
   * their group commit arrives.
   */
  add(rec: LogRecord): { proven: LogRecord[]; forged: Forged | null };
  /** Records read but not yet covered by a seal (at the end of a chain: appended without the key). */
  pending(): readonly LogRecord[];
}

/** Checks seals of `log` with the log's public key, in chain order. */
export function sealTracker(log: string, verifier: LogVerifier): SealTracker {
  let pending: LogRecord[] = [];
  return {
    add(rec) {
      pending.push(rec);
      const seal = sealOf(rec.line);
      if (seal === null) return { proven: [], forged: null };
      const group = pending;
      pending = [];
      if (seal.from > rec.seq || !verifier.valid(sealPayload(log, seal.signedPart), seal.sig)) {
        return { proven: [], forged: { first: group[0]!.seq, last: rec.seq, where: rec.where, why: `forged: the signature on seq ${rec.seq} does not verify with the log key` } };
      }
      const unsealed = group.filter((r) => r.seq < seal.from);
      const proven = group.filter((r) => r.seq >= seal.from);
      const forged =
        unsealed.length === 0
          ? null
          : { first: unsealed[0]!.seq, last: unsealed[unsealed.length - 1]!.seq, where: unsealed[0]!.where, why: `forged: records ${unsealed[0]!.seq}..${unsealed[unsealed.length - 1]!.seq} carry no signature of the log key (appended by someone without it)` };
      return { proven, forged };
    },
    pending: () => pending,
  };
}
