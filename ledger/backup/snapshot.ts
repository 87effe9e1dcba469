import { EMPTY_HEAD, linkProblem, type ChainHead, type LogRecord } from '../log/chain.ts';
import type { LogReader } from '../log/log.ts';
import { readCheckpoints, witnessedChains, type Checkpoint, type CheckpointSigner } from '../log/witness.ts';
import { entryOf, type ArchiveFile, type ChainEntry } from './archive.ts';

export class BrokenChainError extends Error {
  override readonly name = 'BrokenChainError';
}

const SEGMENT_OF = /\/(\d{6}\.jsonl):\d+$/;
// Large batches: the file reader re-reads the rest of a segment on each call.
const BATCH = 100_000;

/**
 * Copies every chain of one log, consistent while writers append: for each chain the witness is
 * read first, then whole records (the reader never returns a half-written line) up to the end,
 * which is at or past the witness. The archive's witness is the checkpoints read plus, when the
 * copy went past them, a fresh checkpoint of the copied head signed with the log key, so no record
 * in the archive lacks its witness. A chain that does not link, or ends before its witness, is
 * refused: an archive that would not verify is no backup.
 */
export async function snapshotLog(reader: LogReader, dataDir: string, signer: CheckpointSigner): Promise<{ chains: ChainEntry[]; files: ArchiveFile[]; records: number }> {
  const names = [...new Set([...(await reader.chains()), ...witnessedChains(dataDir, reader.log)])].sort();
  const chains: ChainEntry[] = [];
  const files: ArchiveFile[] = [];
  let records = 0;
  for (const chain of names) {
    const checkpoints = readCheckpoints(dataDir, reader.log, chain);
    const copied = await copyChain(reader, chain, checkpoints);
    const witnessSeq = checkpoints.reduce((m, c) => Math.max(m, c.seq), 0);
    if (copied.head.seq < witnessSeq) {
      throw new BrokenChainError(`${reader.log} chain ${chain} ends at seq ${copied.head.seq} but its witness saw seq ${witnessSeq}: records are missing (run audit -- verify)`);
    }
    const witness = copied.head.seq > witnessSeq ? [...checkpoints, signer.sign(chain, copied.head.seq, copied.head.hash)] : checkpoints;
    const enc = encodeURIComponent(chain);
    for (const [segment, lines] of copied.segments) files.push(entryOf(`${reader.log}/${enc}/${segment}`, 'segment', Buffer.from(`${lines.join('\n')}\n`)));
    if (witness.length > 0) files.push(entryOf(`witness/${reader.log}/${enc}.jsonl`, 'witness', Buffer.from(witness.map((c) => `${JSON.stringify(c)}\n`).join(''))));
    chains.push({ log: reader.log, chain, seq: copied.head.seq, hash: copied.head.hash, witnessSeq });
    records += copied.head.seq;
  }
  return { chains, files, records };
}

async function copyChain(reader: LogReader, chain: string, checkpoints: readonly Checkpoint[]): Promise<{ head: ChainHead; segments: Map<string, string[]> }> {
  const signed = new Map(checkpoints.map((c) => [c.seq, c]));
  const segments = new Map<string, string[]>();
  let head: ChainHead = EMPTY_HEAD;
  for (;;) {
    const batch: LogRecord[] = await reader.read(chain, head.seq, BATCH);
    if (batch.length === 0) break;
    for (const rec of batch) {
      const problem = linkProblem(rec.line, chain, head);
      if (problem !== null) throw new BrokenChainError(`${reader.log} chain ${chain} is broken at ${rec.where}: ${problem} (run audit -- verify)`);
      const c = signed.get(rec.seq);
      if (c !== undefined && c.hash !== rec.hash) throw new BrokenChainError(`${reader.log} chain ${chain} differs at ${rec.where} from its checkpoint signed at ${c.ts} (run audit -- verify)`);
      const segment = SEGMENT_OF.exec(rec.where)?.[1] ?? '000001.jsonl';
      const lines = segments.get(segment) ?? [];
      lines.push(rec.line);
      segments.set(segment, lines);
      head = { seq: rec.seq, hash: rec.hash };
    }
    // A short batch reached the end as it was then; records appended since belong to the next backup.
    if (batch.length < BATCH) break;
  }
  return { head, segments };
}
