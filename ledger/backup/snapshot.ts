import { EMPTY_HEAD, linkProblem, type ChainHead, type LogRecord } from '../log/chain.ts';
import type { LogReader } from '../log/log.ts';
import { readCheckpoints, witnessedChains, type Checkpoint, type CheckpointSigner } from '../log/witness.ts';
import type { ChainEntry } from './archive.ts';
import type { BodyWriter } from './body.ts';

export class BrokenChainError extends Error {
  override readonly name = 'BrokenChainError';
}

const SEGMENT_OF = /\/(\d{6}\.jsonl):\d+$/;
// Large batches: the file reader re-reads the rest of a segment on each call.
const BATCH = 100_000;

/** The key of a chain in maps of heads: `<log>/<chain>`. */
export function chainKey(log: string, chain: string): string {
  return `${log}/${chain}`;
}

/**
 * Copies every chain of one log into `body`, consistent while writers append: for each chain the
 * witness is read first, then whole records (the reader never returns a half-written line) up to
 * the end, which is at or past the witness. The archive's witness is the checkpoints read plus,
 * when the copy went past them, a fresh checkpoint of the copied head signed with the log key, so
 * no record in the archive lacks its witness. A chain that does not link, or ends before its
 * witness, is refused: an archive that would not verify is no backup.
 *
 * With `after` (an incremental archive) each chain is copied from the head its parent holds: the
 * live record at that seq must still have the parent's hash, and only later records (and later
 * checkpoints) are copied, as the segments they are in.
 */
export async function snapshotLog(reader: LogReader, dataDir: string, signer: CheckpointSigner, body: BodyWriter, after: ReadonlyMap<string, ChainHead> = new Map()): Promise<{ chains: ChainEntry[]; records: number }> {
  const parentChains = [...after.keys()].filter((k) => k.startsWith(`${reader.log}/`)).map((k) => k.slice(reader.log.length + 1));
  const names = [...new Set([...(await reader.chains()), ...witnessedChains(dataDir, reader.log), ...parentChains])].sort();
  const chains: ChainEntry[] = [];
  let records = 0;
  for (const chain of names) {
    const from = after.get(chainKey(reader.log, chain)) ?? EMPTY_HEAD;
    const checkpoints = readCheckpoints(dataDir, reader.log, chain);
    if (from.seq > 0) await expectHead(reader, chain, from);
    const enc = encodeURIComponent(chain);
    const head = await copyChain(reader, chain, from, checkpoints, body, (segment) => `${reader.log}/${enc}/${segment}`);
    const witnessSeq = checkpoints.reduce((m, c) => Math.max(m, c.seq), 0);
    if (head.seq < witnessSeq) {
      throw new BrokenChainError(`${reader.log} chain ${chain} ends at seq ${head.seq} but its witness saw seq ${witnessSeq}: records are missing (run audit -- verify)`);
    }
    const newer = checkpoints.filter((c) => c.seq > from.seq);
    const witness = head.seq > witnessSeq ? [...newer, signer.sign(chain, head.seq, head.hash)] : newer;
    if (witness.length > 0) await body.add(`witness/${reader.log}/${enc}.jsonl`, 'witness', Buffer.from(witness.map((c) => `${JSON.stringify(c)}\n`).join('')));
    chains.push({ log: reader.log, chain, seq: head.seq, hash: head.hash, witnessSeq, from: from.seq, fromHash: from.hash });
    records += head.seq - from.seq;
  }
  return { chains, records };
}

/** The record an increment starts after must still be in the log as the parent archive holds it. */
async function expectHead(reader: LogReader, chain: string, head: ChainHead): Promise<void> {
  const [rec] = await reader.read(chain, head.seq - 1, 1);
  if (rec === undefined || rec.seq !== head.seq || rec.hash !== head.hash) {
    throw new BrokenChainError(`${reader.log} chain ${chain} no longer holds record ${head.seq} as the last archive has it: an increment cannot follow it (make a full backup with --full, and run audit -- verify)`);
  }
}

async function copyChain(reader: LogReader, chain: string, from: ChainHead, checkpoints: readonly Checkpoint[], body: BodyWriter, pathOf: (segment: string) => string): Promise<ChainHead> {
  const signed = new Map(checkpoints.map((c) => [c.seq, c]));
  let head: ChainHead = from;
  let segment: string | null = null;
  for (;;) {
    const batch: LogRecord[] = await reader.read(chain, head.seq, BATCH);
    if (batch.length === 0) break;
    let text = '';
    for (const rec of batch) {
      const problem = linkProblem(rec.line, chain, head);
      if (problem !== null) throw new BrokenChainError(`${reader.log} chain ${chain} is broken at ${rec.where}: ${problem} (run audit -- verify)`);
      const c = signed.get(rec.seq);
      if (c !== undefined && c.hash !== rec.hash) throw new BrokenChainError(`${reader.log} chain ${chain} differs at ${rec.where} from its checkpoint signed at ${c.ts} (run audit -- verify)`);
      const seg = SEGMENT_OF.exec(rec.where)?.[1] ?? '000001.jsonl';
      if (seg !== segment) {
        if (segment !== null) {
          await body.write(text);
          text = '';
          body.end();
        }
        body.begin(pathOf(seg), 'segment');
        segment = seg;
      }
      text += `${rec.line}\n`;
      head = { seq: rec.seq, hash: rec.hash };
    }
    await body.write(text);
    // A short batch reached the end as it was then; records appended since belong to the next backup.
    if (batch.length < BATCH) break;
  }
  if (segment !== null) body.end();
  return head;
}
