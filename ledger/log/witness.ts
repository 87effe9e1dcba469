import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { readOrCreateKey } from '../../common/keys.ts';
import { submitCheckpoint, WitnessRefusedError } from '../witness/client.ts';
import { checkpointPayload } from '../witness/statement.ts';
import type { ChainHead } from './chain.ts';
import { logKey, type LogKey } from './log-key.ts';

/**
 * A signed statement "chain X had hash H at seq N" (a checkpoint). The newest one of each chain is
 * its witness: kept outside the log (DATA_DIR/witness/<log>/<chain>.jsonl), so cutting records off
 * the end of a log, or a Redis that lost them, still shows against it.
 */
export interface Checkpoint {
  readonly instance: string;
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  readonly sig: string;
}

export interface CheckpointSigner {
  readonly publicKeyPem: string;
  sign(chain: string, seq: number, hash: string): Checkpoint;
}

export const LOG_KEY_FILE = 'log-ed25519.pem';

function payload(c: Omit<Checkpoint, 'sig'>): Buffer {
  return Buffer.from(JSON.stringify({ instance: c.instance, seq: c.seq, hash: c.hash, ts: c.ts }));
}

/** The public half of DATA_DIR's log key (what backups and checkpoints must verify with), or null when DATA_DIR has none. */
export function logPublicKey(dataDir: string): string | null {
  const file = path.join(dataDir, 'keys', LOG_KEY_FILE);
  if (!existsSync(file)) return null;
  return createPublicKey(createPrivateKey(readFileSync(file, 'utf8'))).export({ type: 'spki', format: 'pem' }).toString();
}

/** The exchange's Ed25519 log key, made in DATA_DIR/keys on first use. */
export function checkpointSigner(dataDir: string): CheckpointSigner {
  const pem = readOrCreateKey(dataDir, LOG_KEY_FILE, () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  ).value;
  const key = createPrivateKey(pem);
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    sign(chain, seq, hash) {
      const body = { instance: chain, seq, hash, ts: new Date().toISOString() };
      return { ...body, sig: sign(null, payload(body), key).toString('base64') };
    },
  };
}

export function checkpointValid(c: Checkpoint, publicKeyPem: string): boolean {
  try {
    return verify(null, payload(c), createPublicKey(publicKeyPem), Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}

export function witnessFile(dataDir: string, log: string, chain: string): string {
  return path.join(dataDir, 'witness', log, `${encodeURIComponent(chain)}.jsonl`);
}

/** Every checkpoint kept for a chain, oldest first; a torn last line (crash mid-write) is skipped. */
export function readCheckpoints(dataDir: string, log: string, chain: string): Checkpoint[] {
  let text: string;
  try {
    text = readFileSync(witnessFile(dataDir, log, chain), 'utf8');
  } catch {
    return [];
  }
  const out: Checkpoint[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as Checkpoint);
    } catch {
      // a torn final line: the checkpoint before it still stands
    }
  }
  return out;
}

/** The newest checkpoint of a chain, or null. */
export function readWitness(dataDir: string, log: string, chain: string): Checkpoint | null {
  const all = readCheckpoints(dataDir, log, chain);
  return all.length === 0 ? null : all[all.length - 1]!;
}

/** The chains that have a witness under DATA_DIR/witness/<log>. */
export function witnessedChains(dataDir: string, log: string): string[] {
  try {
    return readdirNames(path.join(dataDir, 'witness', log));
  } catch {
    return [];
  }
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => decodeURIComponent(f.slice(0, -'.jsonl'.length)))
    .sort();
}


/**
 * Keeps a chain's witness: at most once a second while the head moves, and once more at close.
 * Writing never blocks an append: a failed write is reported and retried at the next tick.
 */
export interface Witness {
  /** Tells the witness where the chain now ends. */
  moved(head: ChainHead): void;
  /** Writes the current head now (shutdown, backup). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The off-host witnesses a writer sends its heads to (WITNESS_URLS), with the log key that signs them. */
export interface RemoteWitnesses {
  readonly key: LogKey;
  readonly urls: readonly string[];
}

export function witness(opts: { dataDir: string; log: string; chain: string; signer: CheckpointSigner; warn: (line: string) => void; everyMs?: number; remote?: RemoteWitnesses }): Witness {
  const file = witnessFile(opts.dataDir, opts.log, opts.chain);
  let head: ChainHead | null = null;
  let written = readWitness(opts.dataDir, opts.log, opts.chain)?.seq ?? 0;
  let writing: Promise<void> = Promise.resolve();
  let failing = false;
  const sent = new Map<string, number>();
  const remoteFailing = new Set<string>();
  // Each off-host witness is told the head as well; one that is away or refuses is reported once
  // and asked again at the next tick (a refusal repeats until the chain passes what it saw).
  const tellRemote = async (h: ChainHead): Promise<void> => {
    const remote = opts.remote;
    if (remote === undefined) return;
    const req = { publicKey: remote.key.publicKeyPem, log: opts.log, chain: opts.chain, seq: h.seq, hash: h.hash, sig: remote.key.sign(checkpointPayload(opts.log, opts.chain, h.seq, h.hash)) };
    await Promise.all(
      remote.urls.map(async (url) => {
        if ((sent.get(url) ?? 0) >= h.seq) return;
        try {
          await submitCheckpoint(url, req);
          sent.set(url, h.seq);
          if (remoteFailing.delete(url)) opts.warn(`${opts.log}: witness ${url} countersigns chain ${opts.chain} again`);
        } catch (e) {
          if (remoteFailing.has(url)) return;
          remoteFailing.add(url);
          opts.warn(e instanceof WitnessRefusedError ? `${opts.log}: witness ${url} refused the head of chain ${opts.chain} at seq ${h.seq}: ${e.message}` : `${opts.log}: cannot reach witness ${url} for chain ${opts.chain} (${(e as Error).message}); retrying`);
        }
      }),
    );
  };
  const write = (): Promise<void> => {
    writing = writing.then(async () => {
      const h = head;
      if (h === null) return;
      await tellRemote(h);
      if (h.seq <= written) return;
      const c = opts.signer.sign(opts.chain, h.seq, h.hash);
      try {
        await mkdir(path.dirname(file), { recursive: true });
        const fh = await open(file, 'a');
        try {
          await fh.write(`${JSON.stringify(c)}\n`);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        written = h.seq;
        failing = false;
      } catch (e) {
        if (!failing) opts.warn(`${opts.log}: cannot write the witness of chain ${opts.chain} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); retrying`);
        failing = true;
      }
    });
    return writing;
  };
  const timer = setInterval(() => void write(), opts.everyMs ?? 1000);
  timer.unref();
  return {
    moved(h) {
      head = h;
    },
    flush: write,
    async close() {
      clearInterval(timer);
      await write();
    },
  };
}

/**
 * What a chain writer of either backend seals and witnesses with: the log key (the development key
 * of `dataDir` unless one is given), the seal each group commit carries, and the chain's witness,
 * local and, with witness URLs, off the host.
 */
export function writerTrust(opts: { dataDir: string; log: string; chain: string; warn: (line: string) => void; key?: LogKey; witnessEveryMs?: number; witnessUrls?: readonly string[] }): { seal: { log: string; sign: LogKey['sign'] }; wit: Witness } {
  const key = opts.key ?? logKey(opts.dataDir);
  const wit = witness({
    dataDir: opts.dataDir,
    log: opts.log,
    chain: opts.chain,
    signer: checkpointSigner(opts.dataDir),
    warn: opts.warn,
    ...(opts.witnessEveryMs !== undefined ? { everyMs: opts.witnessEveryMs } : {}),
    ...(opts.witnessUrls !== undefined && opts.witnessUrls.length > 0 ? { remote: { key, urls: opts.witnessUrls } } : {}),
  });
  return { seal: { log: opts.log, sign: key.sign }, wit };
}
