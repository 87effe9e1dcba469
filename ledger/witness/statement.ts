/**
 * What a log and an off-host witness say to each other (the shape of Certificate Transparency's
 * witness cosigning, for hash chains): the log signs "chain C of log L ends at (seq, hash)" with
 * its log key; the witness countersigns it with its own key only if it extends what the witness
 * has already countersigned for that chain, and keeps every countersigned head.
 */
export interface CheckpointRequest {
  /** The log key's public half (SPKI PEM): the witness knows a log by its fingerprint, the origin. */
  readonly publicKey: string;
  readonly log: string;
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
  /** The log key's signature over checkpointPayload(). */
  readonly sig: string;
}

export interface Cosigned {
  readonly origin: string;
  readonly log: string;
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
  /** When the witness countersigned. */
  readonly ts: string;
  /** The witness key's signature over cosignPayload(). */
  readonly cosig: string;
}

export function checkpointPayload(log: string, chain: string, seq: number, hash: string): string {
  return `exchange-checkpoint/1\n${log}\n${chain}\n${seq}\n${hash}`;
}

export function cosignPayload(c: Omit<Cosigned, 'cosig'>): string {
  return `exchange-cosignature/1\n${c.origin}\n${c.log}\n${c.chain}\n${c.seq}\n${c.hash}\n${c.ts}`;
}

export const NAME = /^[A-Za-z0-9._:-]{1,128}$/;
export const HASH = /^[0-9a-f]{64}$/;
