import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Actor, LedgerEvent, Recorded } from './events.ts';
import { fileLogReader, openFileLog } from './log/file-log.ts';
import { follow, type Follower } from './log/follow.ts';
import { LogConflictError, type LogReader, type LogSink, type LogWriter } from './log/log.ts';
import { openRedisLog, redisLogReader } from './log/redis-log.ts';
import { logKey, logVerifier } from './log/log-key.ts';
import { sealedReader } from './log/sealed-reader.ts';
import { verifyLog, type Verification } from './log/verify.ts';
import { checkpointSigner } from './log/witness.ts';

export const LEDGER_LOG = 'ledger';
/** The ledger is one chain, whichever process appends: its seq orders everything the authority records. */
export const LEDGER_CHAIN = 'authority';

/**
 * A fold of the ledger kept current in this process: it replays every event from the first, then
 * follows the chain as any process appends to it.
 */
export interface Projection {
  /** Resolves once every event recorded before the call is folded. */
  sync(): Promise<void>;
  /** The seq of the last event folded. */
  position(): number;
  stop(): void;
}

export interface Ledger {
  readonly kind: 'file' | 'redis';
  /**
   * Records one event. Resolves once it is durable and every projection of this process has
   * folded it (so a mutation answers from state that includes its own step).
   */
  record<E extends LedgerEvent>(event: E, actor: Actor | null): Promise<Recorded<E>>;
  /**
   * Decides on the projection's state and records the decision, as one step: `decide` runs on
   * state folded up to the chain's end, and its event is recorded only if nothing was recorded
   * since (by any process); otherwise the projection catches up and `decide` runs again. `decide`
   * throws to refuse (the error reaches the caller as it is).
   */
  decide<E extends LedgerEvent>(projection: Projection, decide: () => E, actor: Actor | null): Promise<Recorded<E>>;
  /** Folds every event, in order, exactly once: the past at once, the future as it is recorded. */
  project(fold: (event: Recorded) => void): Projection;
  /** Resolves once every projection has folded everything recorded before the call. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface LedgerOptions {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix?: string;
  readonly sink?: LogSink;
  /** The clock events are stamped with (tests inject one). */
  readonly now?: () => Date;
  /** LOG_SIGNING_KEY (PEM): signs what this process records and checks what every fold applies; null or absent: the development key. */
  readonly logSigningKey?: string | null;
  /** WITNESS_URLS: off-host witnesses of the ledger's head. */
  readonly witnessUrls?: readonly string[];
}

const LEGACY = ['exchange/events.jsonl', 'policy/grants.jsonl'];

/** Parses one stored ledger line; the chain fields are the record's place. */
export function parseRecorded(line: string): Recorded {
  const r = JSON.parse(line) as { at: string; type: string; actor: Actor | null; data: unknown; seq: number; hash: string };
  return { type: r.type, data: r.data, at: r.at, actor: r.actor, seq: r.seq, hash: r.hash } as Recorded;
}

export function ledgerReader(opts: { dataDir: string; redisUrl: string | null; redisPrefix?: string; pollMs?: number }): LogReader {
  return opts.redisUrl === null
    ? fileLogReader(opts.dataDir, LEDGER_LOG, opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {})
    : redisLogReader({ url: opts.redisUrl, prefix: opts.redisPrefix ?? 'exchange:', log: LEDGER_LOG, ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}) });
}

export async function openLedger(opts: LedgerOptions): Promise<Ledger> {
  if (opts.redisUrl === null) {
    const legacy = LEGACY.filter((f) => existsSync(path.join(opts.dataDir, f)));
    if (legacy.length > 0) {
      throw new Error(`DATA_DIR holds records in the layout before the ledger (${legacy.join(', ')}); this version keeps them in DATA_DIR/ledger: start with a fresh DATA_DIR`);
    }
  }
  const sink: LogSink = opts.sink ?? { info() {}, warn: (l) => process.stderr.write(`${l}\n`) };
  const now = opts.now ?? (() => new Date());
  const key = logKey(opts.dataDir, opts.logSigningKey ?? null);
  const verifier = logVerifier(key.publicKeyPem);
  const trust = { key, ...(opts.witnessUrls !== undefined ? { witnessUrls: opts.witnessUrls } : {}) };
  const writer: LogWriter =
    opts.redisUrl === null
      ? await openFileLog({ dataDir: opts.dataDir, log: LEDGER_LOG, chain: LEDGER_CHAIN, mode: 'shared', sink, ...trust })
      : await openRedisLog({ url: opts.redisUrl, prefix: opts.redisPrefix ?? 'exchange:', log: LEDGER_LOG, chain: LEDGER_CHAIN, dataDir: opts.dataDir, sink, ...trust });
  const readers: LogReader[] = [];
  const followers = new Set<Follower>();
  let lastError = '';
  const onError = (e: Error): void => {
    if (e.message === lastError) return;
    lastError = e.message;
    sink.warn(`ledger: cannot read new events, retrying: ${e.message}`);
  };
  const syncAll = async (): Promise<void> => {
    await Promise.all([...followers].map((f) => f.sync()));
  };
  return {
    kind: writer.kind,
    async record(event, actor) {
      const at = now().toISOString();
      const seq = await writer.append([JSON.stringify({ at, type: event.type, actor, data: event.data })]);
      await syncAll();
      const h = writer.head();
      return { ...event, at, actor, seq, hash: h.seq === seq ? h.hash : '' };
    },
    async decide(projection, decide, actor) {
      for (let attempt = 0; ; attempt++) {
        await projection.sync();
        const after = projection.position();
        const event = decide();
        const at = now().toISOString();
        try {
          const seq = await writer.appendIf([JSON.stringify({ at, type: event.type, actor, data: event.data })], after);
          await syncAll();
          const h = writer.head();
          return { ...event, at, actor, seq, hash: h.seq === seq ? h.hash : '' };
        } catch (e) {
          if (!(e instanceof LogConflictError) || attempt >= 50) throw e;
        }
      }
    },
    project(fold) {
      // Each projection reads with its own reader: its cursor is its own position in the chain.
      // An event is folded only once the seal of its group commit proves the log key wrote it,
      // and every event up to that seal links to it by hash: events appended, inserted or edited
      // in the store by anyone else are reported and never applied.
      const reader = sealedReader(ledgerReader({ dataDir: opts.dataDir, redisUrl: opts.redisUrl, ...(opts.redisPrefix !== undefined ? { redisPrefix: opts.redisPrefix } : {}) }), verifier, (u) =>
        sink.warn(`ledger: events ${u.first}..${u.last} of chain ${LEDGER_CHAIN} are not applied: ${u.why}`),
      );
      readers.push(reader);
      const f = follow(
        reader,
        LEDGER_CHAIN,
        0,
        (records) => {
          for (const r of records) {
            try {
              fold(parseRecorded(r.line));
            } catch (e) {
              // A fold is pure and total over the union; reaching here is our bug, not the caller's.
              sink.warn(`ledger: event ${r.seq} could not be folded: ${(e as Error).message}`);
            }
          }
        },
        onError,
      );
      followers.add(f);
      let toldTail = false;
      return {
        async sync() {
          await f.sync();
          // Events no seal covers stay unapplied; a log written before seals existed is all such
          // events, so say so once instead of starting with an empty state in silence.
          const unsealed = reader.unsealed();
          if (toldTail || unsealed.length === 0) return;
          toldTail = true;
          sink.warn(`ledger: events ${unsealed[0]!.first}..${unsealed[unsealed.length - 1]!.last} of chain ${LEDGER_CHAIN} carry no seal of the log key and are not applied until one covers them: appended without the key, or written before seals existed (see docs/security.md)`);
        },
        position: () => f.position(),
        stop() {
          f.stop();
          followers.delete(f);
        },
      };
    },
    sync: syncAll,
    async close() {
      for (const f of followers) f.stop();
      followers.clear();
      await writer.close();
      await Promise.all(readers.map((r) => r.close()));
    },
  };
}

/**
 * Checks the ledger's chain: links, seals of the log key, checkpoints, the local witness and, with
 * `witnessUrls`, the off-host witnesses (`audit -- verify` runs it).
 */
export async function verifyLedger(opts: { dataDir: string; redisUrl: string | null; redisPrefix?: string; logSigningKey?: string | null; witnessUrls?: readonly string[] }): Promise<Verification> {
  const reader = ledgerReader(opts);
  try {
    return await verifyLog(reader, {
      dataDir: opts.dataDir,
      publicKeyPem: checkpointSigner(opts.dataDir).publicKeyPem,
      seals: logVerifier(logKey(opts.dataDir, opts.logSigningKey ?? null).publicKeyPem),
      ...(opts.witnessUrls !== undefined ? { witnesses: opts.witnessUrls } : {}),
    });
  } finally {
    await reader.close();
  }
}
