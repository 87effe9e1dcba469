import { hash } from 'node:crypto';

/**
 * The hash chain every append-only log keeps (the access log and the authority's ledger alike).
 * A stored line is the record's body (a compact JSON object) followed by the chain fields
 * `instance` (the chain's name), `seq`, `prev` and, last, `hash = sha256(prev + line-without-hash)`.
 * Because the hash covers the line's own text, checking a line needs no knowledge of its body.
 */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const GENESIS = '0'.repeat(64);
export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS });

/** One whole record of a chain as stored. */
export interface LogRecord {
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
  /** The stored JSON line, chain fields included, without the newline. */
  readonly line: string;
  /** Where it is stored, for reports: `<log>/<chain>/<segment>:<line>` or the stream entry. */
  readonly where: string;
}

const HASH_TAIL = ',"hash":"'.length + 64 + '"}'.length;

export function hashOf(prev: string, canonicalText: string): string {
  return hash('sha256', prev + canonicalText, 'hex');
}

/** The chain fields up to `seq`'s value: the same for every line of a chain, so built once per batch. */
function chainFields(chain: string): string {
  return `,"instance":${JSON.stringify(chain)},"seq":`;
}

function linkedLine(body: string, fields: string, seq: number, prev: string): { line: string; hash: string } {
  const linked = `${body.slice(0, -1)}${fields}${seq},"prev":"${prev}"`;
  const h = hashOf(prev, `${linked}}`);
  return { line: `${linked},"hash":"${h}"}`, hash: h };
}

/** The stored line for `body` at (chain, seq) after `prev`. */
export function chainLine(body: string, chain: string, seq: number, prev: string): { line: string; hash: string } {
  return linkedLine(body, chainFields(chain), seq, prev);
}

/**
 * What the log key signs for a sealed record: the log's name and the record's text up to and
 * including `from` (the first seq of its group commit). `prev` is in it, so the signature covers
 * every record of the group commit through the hash chain, and `from` says where the group began:
 * records before it are covered only by an earlier seal.
 */
export function sealPayload(log: string, signedPart: string): string {
  return `exchange-log-record/1\n${log}\n${signedPart}}`;
}

/**
 * The stored line that closes a group commit: `from` and `sig` (the log key's signature) sit
 * between `prev` and `hash`, so the hash covers them and the link rule is unchanged.
 */
export function sealedLine(body: string, chain: string, seq: number, prev: string, from: number, seal: (signedPart: string) => string): { line: string; hash: string } {
  const signed = `${body.slice(0, -1)}${chainFields(chain)}${seq},"prev":"${prev}","from":${from}`;
  const canonical = `${signed},"sig":"${seal(signed)}"}`;
  const h = hashOf(prev, canonical);
  return { line: `${canonical.slice(0, -1)},"hash":"${h}"}`, hash: h };
}

const SEAL = /,"from":(\d+),"sig":"([A-Za-z0-9+/=]+)","hash":"[0-9a-f]{64}"\}$/;

/** The seal of a stored line: the first seq it covers, its signature and the text it signs; null when unsealed. */
export function sealOf(line: string): { from: number; sig: string; signedPart: string } | null {
  const m = SEAL.exec(line);
  if (m === null) return null;
  return { from: Number(m[1]), sig: m[2]!, signedPart: `${line.slice(0, m.index)},"from":${m[1]}` };
}

/** Signs a seal payload with the log key (base64). */
export type Sealer = (payload: string) => string;

/**
 * Chains a group commit's bodies after `head`: the lines to store, where each caller's first body
 * lands, and the new head. With `seal` (log name and signer), the last line carries the log key's
 * signature over the whole group: one signature per durable write, whatever its size.
 */
export function chainBatch(batch: readonly (readonly string[])[], chain: string, head: ChainHead, seal?: { log: string; sign: Sealer }): { lines: string[]; firsts: number[]; head: ChainHead } {
  const firsts: number[] = [];
  const lines: string[] = [];
  let seq = head.seq;
  let prev = head.hash;
  const fields = chainFields(chain);
  let total = 0;
  for (const bodies of batch) total += bodies.length;
  let n = 0;
  for (const bodies of batch) {
    firsts.push(seq + 1);
    for (const body of bodies) {
      seq++;
      n++;
      const c = seal !== undefined && n === total ? sealedLine(body, chain, seq, prev, head.seq + 1, (signed) => seal.sign(sealPayload(seal.log, signed))) : linkedLine(body, fields, seq, prev);
      lines.push(c.line);
      prev = c.hash;
    }
  }
  return { lines, firsts, head: { seq, hash: prev } };
}

/** Why `line` does not follow `before` in chain `chain`, or null when it does. */
export function linkProblem(line: string, chain: string, before: ChainHead): string | null {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(line);
  } catch {
    // torn: parsedLinkProblem says so
  }
  return parsedLinkProblem(line, parsed, chain, before);
}

/** linkProblem for a line its caller has already parsed (`parsed`: what JSON.parse gave, or null when it threw). */
export function parsedLinkProblem(line: string, parsed: unknown, chain: string, before: ChainHead): string | null {
  const f = parsed as { instance?: unknown; seq?: unknown; prev?: unknown; hash?: unknown } | null;
  if (typeof f !== 'object' || f === null || typeof f.instance !== 'string' || typeof f.seq !== 'number' || typeof f.prev !== 'string' || typeof f.hash !== 'string') return 'not a JSON record with chain fields (torn or corrupted line)';
  if (f.instance !== chain) return `record belongs to chain ${f.instance}`;
  if (f.seq !== before.seq + 1) return f.seq > before.seq + 1 ? `records ${before.seq + 1}..${f.seq - 1} are missing (sequence gap)` : `sequence goes back: expected seq ${before.seq + 1}, found ${f.seq}`;
  if (f.prev !== before.hash) return 'prev does not match the hash of the record before it (a record was removed, inserted or reordered)';
  if (!line.endsWith(`,"hash":"${f.hash}"}`) || hashOf(f.prev, `${line.slice(0, -HASH_TAIL)}}`) !== f.hash) return 'hash does not match the record (the record was edited)';
  return null;
}
