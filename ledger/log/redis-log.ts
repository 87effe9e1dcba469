import { Redis } from 'ioredis';
import { chainBatch, EMPTY_HEAD, type ChainHead, type LogRecord } from './chain.ts';
import { tailOf } from './file-log.ts';
import { groupCommitter } from './group-commit.ts';
import { LogConflictError, LogUnavailableError, type LogReader, type LogSink, type LogStats, type LogWriter } from './log.ts';
import type { LogKey } from './log-key.ts';
import { readWitness, writerTrust } from './witness.ts';

/**
 * The Redis backend: one stream per chain, whose entry ids are the records' seqs (`<seq>-0`), and
 * a head key `<seq>:<hash>`. Every append is one Lua script that checks the head it was chained on
 * and writes the records and the new head together, or nothing. So:
 * - a write that timed out and landed later can never be followed by a second record with the
 *   same seq: the next append finds the head moved, re-reads it and chains on it;
 * - several processes can append to one chain (the ledger) without forking it;
 * - a stream id can be written once only, so even a replayed script cannot duplicate a record.
 */
const APPEND = `
local cur = redis.call('GET', KEYS[1])
if cur == false then cur = '' end
if cur ~= ARGV[1] then return {0, cur} end
local seq = tonumber(ARGV[4])
for i = 5, #ARGV do
  redis.call('XADD', KEYS[2], seq .. '-0', 'r', ARGV[i])
  seq = seq + 1
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return {1, ARGV[2]}
`;

/** Sets the head only if it still is what the caller saw: used to carry a witnessed head over a loss. */
const SEED = `
local cur = redis.call('GET', KEYS[1])
if cur == false then cur = '' end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

interface AppendingRedis extends Redis {
  logAppend(head: string, stream: string, chains: string, expected: string, next: string, chain: string, firstSeq: number, ...lines: string[]): Promise<[number, string]>;
  logSeed(head: string, chains: string, expected: string, next: string, chain: string): Promise<number>;
}

export function redisKeys(prefix: string, log: string, chain: string): { stream: string; head: string; chains: string } {
  return { stream: `${prefix}${log}:${chain}`, head: `${prefix}${log}:${chain}:head`, chains: `${prefix}${log}:chains` };
}

function headText(h: ChainHead): string {
  return h.seq === 0 ? '' : `${h.seq}:${h.hash}`;
}

function parseHead(text: string): ChainHead {
  if (text === '') return EMPTY_HEAD;
  const i = text.indexOf(':');
  return { seq: Number(text.slice(0, i)), hash: text.slice(i + 1) };
}

export interface RedisLogOptions {
  readonly url: string;
  readonly prefix: string;
  readonly log: string;
  readonly chain: string;
  /** Where the witness of this writer's chain is kept (outside Redis, so a flushed Redis shows). */
  readonly dataDir: string;
  readonly sink: LogSink;
  readonly commandTimeoutMs?: number;
  readonly witnessEveryMs?: number;
  /** Signs each group commit (LOG_SIGNING_KEY); default: the development key of dataDir. */
  readonly key?: LogKey;
  /** WITNESS_URLS: off-host witnesses that countersign this chain's heads. */
  readonly witnessUrls?: readonly string[];
}

export async function openRedisLog(opts: RedisLogOptions): Promise<LogWriter> {
  const keys = redisKeys(opts.prefix, opts.log, opts.chain);
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    retryStrategy: () => 250,
  }) as AppendingRedis;
  redis.defineCommand('logAppend', { numberOfKeys: 3, lua: APPEND });
  redis.defineCommand('logSeed', { numberOfKeys: 2, lua: SEED });
  let healthy = true;
  redis.on('error', () => undefined); // reported through the failing append instead
  await redis.connect();
  const { seal, wit } = writerTrust({ dataDir: opts.dataDir, log: opts.log, chain: opts.chain, warn: (l) => opts.sink.warn(l), ...(opts.key !== undefined ? { key: opts.key } : {}), ...(opts.witnessEveryMs !== undefined ? { witnessEveryMs: opts.witnessEveryMs } : {}), ...(opts.witnessUrls !== undefined ? { witnessUrls: opts.witnessUrls } : {}) });
  const stats: LogStats = { appends: 0, records: 0, syncs: 0 };
  let head = parseHead((await redis.get(keys.head)) ?? '');
  let lossReported = -1;

  /**
   * Redis holds less than this writer (or its witness) knows was acknowledged: it restarted empty
   * or was flushed. Said once per loss; the chain then goes on from the known head, so the records
   * after the gap still verify and `audit verify` names exactly the missing ones.
   */
  const carryOver = async (found: ChainHead, known: ChainHead): Promise<ChainHead> => {
    if (lossReported !== known.seq) {
      opts.sink.warn(`${opts.log}: Redis holds chain ${opts.chain} only up to seq ${found.seq}, but seq ${known.seq} was acknowledged: records ${found.seq + 1}..${known.seq} are lost (Redis restarted empty or was flushed); the chain continues from seq ${known.seq}`);
      lossReported = known.seq;
    }
    await redis.logSeed(keys.head, keys.chains, headText(found), headText(known), opts.chain);
    return parseHead((await redis.get(keys.head)) ?? '');
  };

  const witnessed = readWitness(opts.dataDir, opts.log, opts.chain);
  if (witnessed !== null && witnessed.seq > head.seq) head = await carryOver(head, { seq: witnessed.seq, hash: witnessed.hash });
  wit.moved(head);

  const commit = async (batch: readonly (readonly string[])[], ifHeadSeq?: number): Promise<number[]> => {
    try {
      if (ifHeadSeq !== undefined && head.seq !== ifHeadSeq) {
        head = parseHead((await redis.get(keys.head)) ?? '');
        if (head.seq !== ifHeadSeq) throw new LogConflictError(head.seq);
      }
      for (let attempt = 0; ; attempt++) {
        const { lines, firsts, head: next } = chainBatch(batch, opts.chain, head, seal);
        const [ok, cur] = await redis.logAppend(keys.head, keys.stream, keys.chains, headText(head), headText(next), opts.chain, head.seq + 1, ...lines);
        if (ok === 1) {
          stats.syncs++;
          stats.records += next.seq - head.seq;
          head = next;
          wit.moved(head);
          if (!healthy) opts.sink.info(`${opts.log}: Redis chain ${opts.chain} writable again`);
          healthy = true;
          return firsts;
        }
        // Another writer appended, or a write of ours that timed out landed after all: chain on it.
        const found = parseHead(cur);
        head = found.seq < head.seq ? await carryOver(found, head) : found;
        if (ifHeadSeq !== undefined) throw new LogConflictError(head.seq);
        // Each conflict means another writer's batch landed: progress. Back off a little with
        // jitter once it repeats, so that many writers of one chain (the ledger) take turns.
        if (attempt >= 1000) throw new Error(`chain ${opts.chain} keeps moving under this writer`);
        if (attempt >= 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 20)));
      }
    } catch (e) {
      if (e instanceof LogConflictError) throw e;
      if (healthy) opts.sink.warn(`${opts.log}: Redis unavailable for chain ${opts.chain} (${(e as Error).message}); failing closed until it is back`);
      healthy = false;
      throw new LogUnavailableError(`${opts.log} Redis store unavailable: ${(e as Error).message}`);
    }
  };
  const committer = groupCommitter<readonly string[], number>((batch) => commit(batch));

  return {
    kind: 'redis',
    log: opts.log,
    chain: opts.chain,
    append(bodies) {
      stats.appends++;
      return committer.add(bodies);
    },
    async appendIf(bodies, headSeq) {
      stats.appends++;
      return (await commit([bodies], headSeq))[0]!;
    },
    head: () => head,
    writable: () => healthy && redis.status === 'ready',
    stats: () => ({ ...stats }),
    async close() {
      await committer.drain();
      await wit.close();
      redis.disconnect();
    },
  };
}

export function redisLogReader(opts: { url: string; prefix: string; log: string; pollMs?: number; connectTimeoutMs?: number }): LogReader {
  // Commands fail fast while Redis is away (one retry), but the connection keeps coming back: a
  // follower in a long-running process must read on once Redis returns.
  const redis = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: opts.connectTimeoutMs ?? 2000, retryStrategy: () => 250 });
  redis.on('error', () => undefined);
  let sub: Redis | null = null;
  const wakers = new Map<string, Set<() => void>>();
  const polls = new Set<() => void>();
  const subscriber = (): Redis => {
    if (sub !== null) return sub;
    const s = new Redis(opts.url, { lazyConnect: false, maxRetriesPerRequest: null, retryStrategy: () => 500, connectionName: `${opts.prefix}${opts.log}-follower` });
    s.on('error', () => undefined);
    s.on('message', (channel: string) => {
      for (const w of wakers.get(channel) ?? []) w();
    });
    // Messages published while the connection was down are not delivered: read on at reconnect.
    s.on('ready', () => {
      for (const set of wakers.values()) for (const w of set) w();
    });
    sub = s;
    return s;
  };
  return {
    kind: 'redis',
    log: opts.log,
    async chains() {
      return (await redis.smembers(`${opts.prefix}${opts.log}:chains`)).sort();
    },
    async read(chain, after, limit) {
      const { stream } = redisKeys(opts.prefix, opts.log, chain);
      const entries = (await redis.xrange(stream, `${after + 1}-0`, '+', 'COUNT', limit)) as [string, string[]][];
      const out: LogRecord[] = [];
      for (const [id, fields] of entries) {
        const line = fields[1] ?? '';
        const t = tailOf(line);
        out.push({ chain, seq: t?.seq ?? Number(id.slice(0, id.indexOf('-'))), hash: t?.hash ?? '', line, where: `Redis stream ${stream} entry ${id}` });
      }
      return out;
    },
    watch(chain, wake) {
      const { stream } = redisKeys(opts.prefix, opts.log, chain);
      const s = subscriber();
      let set = wakers.get(stream);
      if (set === undefined) {
        set = new Set();
        wakers.set(stream, set);
        void s.subscribe(stream).catch(() => undefined);
      }
      set.add(wake);
      const poll = setInterval(wake, opts.pollMs ?? 1000);
      poll.unref();
      const stop = (): void => {
        clearInterval(poll);
        polls.delete(stop);
        set.delete(wake);
      };
      polls.add(stop);
      return stop;
    },
    async close() {
      for (const stop of [...polls]) stop();
      sub?.disconnect();
      redis.disconnect();
    },
  };
}
