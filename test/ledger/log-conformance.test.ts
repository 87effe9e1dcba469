import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { sealOf, type LogRecord } from '../../ledger/log/chain.ts';
import { chainDir, fileLogReader, openFileLog, segmentsOf } from '../../ledger/log/file-log.ts';
import { follow } from '../../ledger/log/follow.ts';
import { LogUnavailableError, type LogReader, type LogSink, type LogWriter } from '../../ledger/log/log.ts';
import { openRedisLog, redisKeys, redisLogReader } from '../../ledger/log/redis-log.ts';
import { logKey, logVerifier } from '../../ledger/log/log-key.ts';
import { verifyLog } from '../../ledger/log/verify.ts';
import { checkpointSigner } from '../../ledger/log/witness.ts';
import { privateRedis } from '../helpers/redis-server.ts';
import { succeeds } from '../helpers/wait.ts';
import { ROOT } from '../helpers/root.ts';

const REDIS = 'redis://127.0.0.1:6379';
const LOG = 'testlog';

type Kind = 'file' | 'redis';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function body(i: number): string {
  return JSON.stringify({ at: `2026-06-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, n: i, text: `record ${i} 记录` });
}

const quiet: LogSink = { info() {}, warn() {} };

interface Backend {
  readonly kind: Kind;
  readonly dataDir: string;
  readonly prefix: string;
  writer(opts?: { chain?: string; sink?: LogSink; mode?: 'exclusive' | 'shared'; segmentBytes?: number }): Promise<LogWriter>;
  reader(): LogReader;
  verify(): ReturnType<typeof verifyLog>;
}

function backend(kind: Kind, url = REDIS): Backend {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-log-'));
  const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  const opened: { close(): Promise<void> }[] = [];
  cleanups.push(async () => {
    for (const o of opened) await o.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    if (kind === 'redis' && url === REDIS) {
      const r = new Redis(REDIS);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
  });
  const b: Backend = {
    kind,
    dataDir,
    prefix,
    async writer(o = {}) {
      const chain = o.chain ?? 'c1';
      const w =
        kind === 'file'
          ? await openFileLog({ dataDir, log: LOG, chain, mode: o.mode ?? 'shared', sink: o.sink ?? quiet, ...(o.segmentBytes !== undefined ? { segmentBytes: o.segmentBytes } : {}) })
          : await openRedisLog({ url, prefix, log: LOG, chain, dataDir, sink: o.sink ?? quiet, commandTimeoutMs: 500 });
      opened.push(w);
      return w;
    },
    reader() {
      const r = kind === 'file' ? fileLogReader(dataDir, LOG, { pollMs: 50 }) : redisLogReader({ url, prefix, log: LOG, pollMs: 100 });
      opened.push(r);
      return r;
    },
    async verify() {
      const r = b.reader();
      // Every record must also be covered by a seal of the log key (the development key of dataDir).
      return verifyLog(r, { dataDir, publicKeyPem: checkpointSigner(dataDir).publicKeyPem, seals: logVerifier(logKey(dataDir).publicKeyPem) });
    },
  };
  return b;
}

async function readAll(reader: LogReader, chain = 'c1'): Promise<LogRecord[]> {
  return reader.read(chain, 0, 1_000_000);
}

describe.each<Kind>(['file', 'redis'])('the append-only log, %s backend', (kind) => {
  it('appends records in order, numbers them from 1 and reads them back whole', async () => {
    const b = backend(kind);
    const w = await b.writer();
    expect(await w.append([body(1), body(2)])).toBe(1);
    expect(await w.append([body(3)])).toBe(3);
    const records = await readAll(b.reader());
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records.map((r) => (JSON.parse(r.line) as { n: number }).n)).toEqual([1, 2, 3]);
    expect(JSON.parse(records[1]!.line)).toMatchObject({ instance: 'c1', seq: 2, prev: records[0]!.hash, hash: records[1]!.hash });
    expect(w.head()).toEqual({ seq: 3, hash: records[2]!.hash });
  });

  it('reads from a position on, in pages', async () => {
    const b = backend(kind);
    const w = await b.writer();
    await w.append(Array.from({ length: 25 }, (_, i) => body(i + 1)));
    const r = b.reader();
    expect((await r.read('c1', 10, 5)).map((x) => x.seq)).toEqual([11, 12, 13, 14, 15]);
    expect((await r.read('c1', 15, 100)).map((x) => x.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 16 + i));
    expect((await r.read('c1', 3, 2)).map((x) => x.seq)).toEqual([4, 5]);
    expect(await r.read('c1', 25, 10)).toEqual([]);
  });

  it('continues the chain after the writer is closed and opened again', async () => {
    const b = backend(kind);
    let w = await b.writer();
    await w.append([body(1), body(2)]);
    await w.close();
    w = await b.writer();
    expect(w.head().seq).toBe(2);
    expect(await w.append([body(3)])).toBe(3);
    expect(await b.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it('shares one durable write among concurrent appends (group commit)', async () => {
    const b = backend(kind);
    const w = await b.writer();
    const firsts = await Promise.all(Array.from({ length: 200 }, (_, i) => w.append([body(i), body(i + 1000)])));
    expect(new Set(firsts).size).toBe(200);
    const s = w.stats();
    expect(s).toMatchObject({ appends: 200, records: 400 });
    expect(s.syncs).toBeLessThan(s.appends / 4);
    expect(await b.verify()).toMatchObject({ ok: true, records: 400 });
  });

  it('seals each durable write with one signature of the log key, covering exactly its records', async () => {
    const b = backend(kind);
    const w = await b.writer();
    await Promise.all(Array.from({ length: 100 }, (_, i) => w.append([body(i), body(i + 1000)])));
    const seals = (await readAll(b.reader())).map((r) => ({ seq: r.seq, seal: sealOf(r.line) })).filter((x) => x.seal !== null);
    expect(seals).toHaveLength(w.stats().syncs);
    expect(seals[seals.length - 1]!.seq).toBe(200);
    seals.forEach((x, i) => expect(x.seal!.from).toBe(i === 0 ? 1 : seals[i - 1]!.seq + 1));
  });

  it('lets two writers append to one chain at once without forking it', async () => {
    const b = backend(kind);
    const [w1, w2] = [await b.writer(), await b.writer()];
    const firsts = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? w1 : w2).append([body(i)])));
    expect([...firsts].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await b.verify()).toMatchObject({ ok: true, records: 60 });
  });

  it('keeps chains apart and lists them', async () => {
    const b = backend(kind);
    const a = await b.writer({ chain: 'gw-a' });
    const c = await b.writer({ chain: 'gw-b' });
    await a.append([body(1)]);
    await c.append([body(2), body(3)]);
    const r = b.reader();
    expect(await r.chains()).toEqual(['gw-a', 'gw-b']);
    expect((await r.read('gw-b', 0, 10)).map((x) => x.seq)).toEqual([1, 2]);
    expect(await b.verify()).toMatchObject({ ok: true, records: 3, chains: 2 });
  });

  it('a follower delivers every record once, in order, including those appended after it started', async () => {
    const b = backend(kind);
    const w = await b.writer();
    await w.append([body(1), body(2)]);
    const seen: number[] = [];
    const reached = (n: number): Promise<void> =>
      new Promise((resolve) => {
        const check = setInterval(() => {
          if (seen.length >= n) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
    const f = follow(b.reader(), 'c1', 0, (rs) => seen.push(...rs.map((r) => r.seq)), (e) => {
      throw e;
    });
    cleanups.push(() => f.stop());
    await f.sync();
    expect(seen).toEqual([1, 2]);
    // Written by another writer of the chain: the follower learns of it without being asked.
    const other = await b.writer();
    for (let i = 3; i <= 20; i++) await other.append([body(i)]);
    await reached(20);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('verify fails when the last acknowledged records are removed, naming them from the witness', async () => {
    const b = backend(kind);
    const w = await b.writer();
    for (let i = 1; i <= 5; i++) await w.append([body(i)]);
    await w.close(); // writes the witness
    if (kind === 'file') {
      const seg = path.join(chainDir(b.dataDir, LOG, 'c1'), '000001.jsonl');
      const lines = readFileSync(seg, 'utf8').trimEnd().split('\n');
      writeFileSync(seg, `${lines.slice(0, 2).join('\n')}\n`);
    } else {
      const r = new Redis(REDIS);
      await r.xdel(redisKeys(b.prefix, LOG, 'c1').stream, '3-0', '4-0', '5-0');
      r.disconnect();
    }
    const v = await b.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: 'c1', seq: 3, why: expect.stringContaining('records 3..5 are missing') });
  });

  it('verify fails on a record removed from the middle', async () => {
    const b = backend(kind);
    const w = await b.writer();
    for (let i = 1; i <= 5; i++) await w.append([body(i)]);
    if (kind === 'file') {
      const seg = path.join(chainDir(b.dataDir, LOG, 'c1'), '000001.jsonl');
      const lines = readFileSync(seg, 'utf8').trimEnd().split('\n');
      lines.splice(1, 1);
      writeFileSync(seg, `${lines.join('\n')}\n`);
    } else {
      const r = new Redis(REDIS);
      await r.xdel(redisKeys(b.prefix, LOG, 'c1').stream, '2-0');
      r.disconnect();
    }
    expect((await b.verify()).firstBad).toMatchObject({ seq: 3, why: expect.stringContaining('records 2..2 are missing') });
  });
});

describe('the file backend', () => {
  const filled = async (): Promise<{ b: Backend; segment: string; lines: string[] }> => {
    const b = backend('file');
    const w = await b.writer();
    for (let i = 1; i <= 5; i++) await w.append([body(i)]);
    await w.close();
    const segment = path.join(chainDir(b.dataDir, LOG, 'c1'), '000001.jsonl');
    return { b, segment, lines: readFileSync(segment, 'utf8').trimEnd().split('\n') };
  };

  it('catches a one-byte edit and names the file and line', async () => {
    const { b, segment, lines } = await filled();
    lines[2] = lines[2]!.replace('record 3', 'record 8');
    writeFileSync(segment, `${lines.join('\n')}\n`);
    const v = await b.verify();
    expect(v.firstBad).toMatchObject({ seq: 3, where: 'testlog/c1/000001.jsonl:3', why: expect.stringContaining('edited') });
  });

  it('catches two swapped lines', async () => {
    const { b, segment, lines } = await filled();
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    writeFileSync(segment, `${lines.join('\n')}\n`);
    expect(await b.verify()).toMatchObject({ ok: false, firstBad: { where: 'testlog/c1/000001.jsonl:2' } });
  });

  it('sets a torn last line aside at the next write, says so, and continues the chain; readers never see it', async () => {
    const { b, segment } = await filled();
    appendFileSync(segment, '{"at":"2026-06-01T00:00:09.000Z","n":99');
    expect((await readAll(b.reader())).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    const warnings: string[] = [];
    const w = await b.writer({ sink: { info() {}, warn: (l) => warnings.push(l) } });
    expect(warnings.join('\n')).toMatch(/torn last line in c1\/000001\.jsonl .* moved to 000001\.jsonl\.torn-\d+/);
    expect(await w.append([body(6)])).toBe(6);
    expect(await b.verify()).toMatchObject({ ok: true, records: 6 });
    expect(readdirSync(path.dirname(segment)).some((f) => f.includes('.torn-'))).toBe(true);
  });

  it('rotates segments by size; reading, verification and reopening run across them', async () => {
    const b = backend('file');
    let w = await b.writer({ segmentBytes: 1024 });
    for (let i = 1; i <= 40; i++) await w.append([body(i), body(100 + i)]);
    await w.close();
    const segments = await segmentsOf(chainDir(b.dataDir, LOG, 'c1'));
    expect(segments.length).toBeGreaterThan(3);
    w = await b.writer({ segmentBytes: 1024 });
    expect(await w.append([body(81)])).toBe(81);
    expect((await readAll(b.reader())).map((r) => r.seq)).toEqual(Array.from({ length: 81 }, (_, i) => i + 1));
    expect(await b.verify()).toMatchObject({ ok: true, records: 81 });
    rmSync(path.join(chainDir(b.dataDir, LOG, 'c1'), segments[1]!));
    expect((await b.verify()).firstBad?.why).toContain('are missing');
  });

  it('the append lock of a process killed while holding it is taken over: four processes appending after it neither lose nor fork a record', async () => {
    const { b } = await filled();
    // The lock as a writer killed mid-append leaves it: naming a process that no longer exists.
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid!)));
    symlinkSync(String(deadPid), path.join(chainDir(b.dataDir, LOG, 'c1'), 'append.lock'));
    const script = `
      import { openFileLog } from ${JSON.stringify(path.join(ROOT, 'ledger/log/file-log.ts'))};
      const w = await openFileLog({ dataDir: process.argv[1], log: ${JSON.stringify(LOG)}, chain: 'c1', mode: 'shared', sink: { info() {}, warn() {} } });
      for (let i = 0; i < 25; i++) await w.appendIf([JSON.stringify({ from: process.pid, i })], w.head().seq).catch(() => w.append([JSON.stringify({ from: process.pid, i, again: true })]));
      await w.close();`;
    const codes = await Promise.all(
      Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, b.dataDir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
        return new Promise<number | null>((resolve) => child.once('exit', resolve));
      }),
    );
    expect(codes).toEqual([0, 0, 0, 0]);
    const records = await readAll(b.reader());
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 105 }, (_, i) => i + 1));
    expect(await b.verify()).toMatchObject({ ok: true, records: 105 });
  });

  it('an exclusive chain refuses a second writer in the same process', async () => {
    const b = backend('file');
    await b.writer({ mode: 'exclusive' });
    await expect(b.writer({ mode: 'exclusive' })).rejects.toThrow(/already open in this process/);
  });
});

describe('the Redis backend under faults', () => {
  it('after a stall in which writes timed out, no seq is reused and the chain verifies', async () => {
    const redis = await privateRedis();
    cleanups.push(() => redis.kill());
    await redis.start();
    const b = backend('redis', redis.url);
    const w = await b.writer();
    await w.append([body(1), body(2)]);
    redis.pause();
    const during = await Promise.allSettled([w.append([body(3)]), w.append([body(4)])]);
    expect(during.every((r) => r.status === 'rejected' && r.reason instanceof LogUnavailableError)).toBe(true);
    redis.resume();
    // The timed-out writes may land now; the next append chains on whatever Redis holds.
    const first = await succeeds(() => w.append([body(5)]), (e) => e instanceof LogUnavailableError);
    const seqs = (await readAll(b.reader())).map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[seqs.length - 1]).toBe(first);
    expect(await b.verify()).toMatchObject({ ok: true });
  });

  it('a Redis that restarted empty is reported once as lost data, the chain goes on, and verify names what is missing', async () => {
    const redis = await privateRedis();
    cleanups.push(() => redis.kill());
    await redis.start();
    const b = backend('redis', redis.url);
    const warnings: string[] = [];
    const w = await b.writer({ sink: { info() {}, warn: (l) => warnings.push(l) } });
    await w.append([body(1), body(2), body(3)]);
    await redis.kill();
    await redis.start();
    const first = await succeeds(() => w.append([body(4)]), (e) => e instanceof LogUnavailableError);
    await w.append([body(5)]);
    expect(first).toBe(4);
    expect(warnings.filter((l) => l.includes('lost'))).toHaveLength(1);
    expect(warnings.find((l) => l.includes('lost'))).toContain('records 1..3 are lost');
    const v = await b.verify();
    expect(v.firstBad).toMatchObject({ seq: 4, why: expect.stringContaining('records 1..3 are missing') });
  });
});
