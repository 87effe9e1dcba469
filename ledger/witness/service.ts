import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readOrCreateKeyIn } from '../../common/keys.ts';
import { logKeyProblem, logVerifier, originOf } from '../log/log-key.ts';
import { checkpointPayload, cosignPayload, HASH, NAME, type CheckpointRequest, type Cosigned } from './statement.ts';

/**
 * The witness service (`npm run witness`): runs apart from the exchange, with its own key and its
 * own storage, and countersigns checkpoints of exchange logs only when they extend what it has
 * countersigned before for that chain: a lower seq (a rollback) or another hash at the same seq (a
 * fork) is refused. It keeps every countersigned head, append-only, and answers the newest head
 * of every chain it has seen for a log (so a chain deleted from the log still shows) and a
 * chain's whole history (so a log rewritten below a countersigned head still shows).
 */
export interface WitnessOptions {
  readonly dataDir: string;
  /** The witness key (PEM); null: made in dataDir/keys on first start. */
  readonly keyPem: string | null;
  readonly host: string;
  readonly port: number;
  readonly log?: (line: string) => void;
}

export interface RunningWitness {
  readonly url: string;
  readonly publicKeyPem: string;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const WITNESS_KEY_FILE = 'witness-ed25519.pem';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function refuse(res: ServerResponse, status: number, message: string): void {
  send(res, status, { message });
}

async function bodyOf(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function requestProblem(r: Partial<CheckpointRequest>): string | null {
  if (typeof r.publicKey !== 'string') return 'publicKey must be a PEM public key';
  if (typeof r.log !== 'string' || !NAME.test(r.log)) return 'log must be 1-128 letters, digits or . _ : -';
  if (typeof r.chain !== 'string' || r.chain.length < 1 || r.chain.length > 256) return 'chain must be 1-256 characters';
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return 'seq must be a positive integer';
  if (typeof r.hash !== 'string' || !HASH.test(r.hash)) return 'hash must be 64 hex digits';
  if (typeof r.sig !== 'string') return 'sig must be a base64 signature';
  return null;
}

export async function startWitness(opts: WitnessOptions): Promise<RunningWitness> {
  const pem = opts.keyPem ?? readOrCreateKeyIn(path.join(opts.dataDir, 'keys'), WITNESS_KEY_FILE, () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).value;
  const problem = logKeyProblem(pem);
  if (problem !== null) throw new Error(`the witness key ${problem}`);
  const key = createPrivateKey(pem);
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  // (origin, log) → chain → every countersigned head, oldest first; loaded from disk on first use.
  const logs = new Map<string, Map<string, Cosigned[]>>();
  const dirOf = (origin: string, log: string): string => path.join(opts.dataDir, 'logs', origin, log);
  const loaded = (origin: string, log: string): Map<string, Cosigned[]> => {
    const id = `${origin}\n${log}`;
    let chains = logs.get(id);
    if (chains !== undefined) return chains;
    chains = new Map();
    let files: string[] = [];
    try {
      files = readdirSync(dirOf(origin, log)).filter((f) => f.endsWith('.jsonl'));
    } catch {
      // nothing seen yet
    }
    for (const f of files) {
      const heads: Cosigned[] = [];
      for (const line of readFileSync(path.join(dirOf(origin, log), f), 'utf8').split('\n')) {
        try {
          if (line !== '') heads.push(JSON.parse(line) as Cosigned);
        } catch {
          // a torn last line was never answered: the head before it stands
        }
      }
      if (heads.length > 0) chains.set(heads[0]!.chain, heads);
    }
    logs.set(id, chains);
    return chains;
  };
  // One write at a time: each countersignature is durable before it is answered.
  let turn: Promise<unknown> = Promise.resolve();

  const checkpoint = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await bodyOf(req);
    if (text === null) return refuse(res, 413, `a checkpoint is at most ${MAX_BODY} bytes`);
    let r: Partial<CheckpointRequest>;
    try {
      r = JSON.parse(text) as Partial<CheckpointRequest>;
    } catch {
      return refuse(res, 400, 'the body must be a JSON checkpoint');
    }
    const bad = requestProblem(r);
    if (bad !== null) return refuse(res, 400, bad);
    const c = r as CheckpointRequest;
    let origin: string;
    try {
      origin = originOf(c.publicKey);
    } catch {
      return refuse(res, 400, 'publicKey must be a PEM public key');
    }
    if (!logVerifier(c.publicKey).valid(checkpointPayload(c.log, c.chain, c.seq, c.hash), c.sig)) return refuse(res, 403, 'the checkpoint signature does not verify with publicKey');
    const done = turn.then(async () => {
      const chains = loaded(origin, c.log);
      const heads = chains.get(c.chain) ?? [];
      const last = heads[heads.length - 1];
      if (last !== undefined && c.seq < last.seq) return refuse(res, 409, `chain ${c.chain} of log ${c.log} was countersigned at seq ${last.seq}; seq ${c.seq} would roll it back`);
      if (last !== undefined && c.seq === last.seq) {
        if (c.hash === last.hash) return send(res, 200, last);
        return refuse(res, 409, `chain ${c.chain} of log ${c.log} was countersigned at seq ${last.seq} with another hash`);
      }
      const body = { origin, log: c.log, chain: c.chain, seq: c.seq, hash: c.hash, ts: new Date().toISOString() };
      const cosigned: Cosigned = { ...body, cosig: sign(null, Buffer.from(cosignPayload(body)), key).toString('base64') };
      const dir = dirOf(origin, c.log);
      await mkdir(dir, { recursive: true });
      const fh = await open(path.join(dir, `${encodeURIComponent(c.chain)}.jsonl`), 'a');
      try {
        await fh.write(`${JSON.stringify(cosigned)}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      heads.push(cosigned);
      chains.set(c.chain, heads);
      send(res, 200, cosigned);
    });
    turn = done.catch(() => undefined);
    await done;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://witness');
    const origin = url.searchParams.get('origin') ?? '';
    const log = url.searchParams.get('log') ?? '';
    const handle = async (): Promise<void> => {
      if (req.method === 'POST' && url.pathname === '/v1/checkpoint') return checkpoint(req, res);
      if (req.method !== 'GET') return refuse(res, 405, 'GET, or POST /v1/checkpoint');
      if (url.pathname === '/v1/key') return send(res, 200, { publicKey: publicKeyPem });
      if (url.pathname !== '/v1/heads' && url.pathname !== '/v1/history') return refuse(res, 404, 'see /v1/key, /v1/heads, /v1/history, /v1/checkpoint');
      if (!/^[0-9a-f]{32}$/.test(origin) || !NAME.test(log)) return refuse(res, 400, 'origin (32 hex digits) and log are required');
      const chains = loaded(origin, log);
      if (url.pathname === '/v1/heads') return send(res, 200, { publicKey: publicKeyPem, heads: [...chains.values()].map((h) => h[h.length - 1]!) });
      return send(res, 200, { heads: chains.get(url.searchParams.get('chain') ?? '') ?? [] });
    };
    handle().catch((e: unknown) => {
      opts.log?.(`witness: ${(e as Error).message}`);
      if (!res.headersSent) refuse(res, 500, 'the witness could not store the countersignature');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`,
    publicKeyPem,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
