import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../gateway/audit/record.ts';
import { canonical, chainLine, GENESIS, hashOf } from '../../gateway/audit/record.ts';
import { AuditUnavailableError, openAuditStore, type AuditStore } from '../../gateway/audit/store.ts';
import { verifyFileStore, verifyRecords } from '../../gateway/audit/verify.ts';
import { openFileAuditStore, segmentsOf } from '../../gateway/audit/file-store.ts';
import { readRedisRecords } from '../../gateway/audit/redis-store.ts';

const REDIS = 'redis://127.0.0.1:6379';

function entry(i: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    ts: new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString(),
    requestId: `r-${i}`,
    operationName: null,
    operationHash: 'h',
    sub: 'tester',
    agency: i % 2 === 0 ? 'tax' : 'amr',
    roles: [],
    purpose: 'tax-collection',
    coordinate: 'Enterprise.name',
    dataset: 'amr.enterprise-registration',
    provider: 'amr',
    class: 'UNCONDITIONAL',
    decision: i % 3 === 0 ? 'DENY' : 'ALLOW',
    reason: i % 3 === 0 ? 'NOT_SHARED' : 'UNCONDITIONAL',
    grantId: null,
    entityKeys: [`K${i % 5}`],
    count: 1,
    ...over,
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('canonical hashing', () => {
  it('hashes prev + the canonical record, with a fixed key order', () => {
    const e = entry(1);
    const { line, hash } = chainLine(e, 'gw-1', 1, GENESIS);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['ts', 'requestId', 'operationName', 'operationHash', 'sub', 'agency', 'roles', 'purpose', 'coordinate', 'dataset', 'provider', 'class', 'decision', 'reason', 'grantId', 'entityKeys', 'count', 'instance', 'seq', 'prev', 'hash']);
    expect(hash).toBe(hashOf(GENESIS, canonical({ ...e, instance: 'gw-1', seq: 1, prev: GENESIS })));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('gives a different hash when any field changes', () => {
    const a = chainLine(entry(1), 'gw-1', 1, GENESIS).hash;
    const b = chainLine(entry(1, { agency: 'eeb' }), 'gw-1', 1, GENESIS).hash;
    expect(a).not.toBe(b);
  });
});

type Kind = 'file' | 'redis';
async function open(kind: Kind, dataDir: string, prefix: string, instance = 'gw-test'): Promise<AuditStore> {
  return openAuditStore({ dataDir, redisUrl: kind === 'redis' ? REDIS : null, redisPrefix: prefix, instance });
}

describe.each<Kind>(['file', 'redis'])('the %s audit store', (kind) => {
  const setup = (): { dataDir: string; prefix: string } => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-audit-'));
    const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    cleanups.push(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const r = new Redis(REDIS);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    });
    return { dataDir, prefix };
  };

  it('stores appended entries and finds them by agency, dataset, entity, decision and time', async () => {
    const { dataDir, prefix } = setup();
    const store = await open(kind, dataDir, prefix);
    await store.append([entry(1), entry(2), entry(3)]);
    await store.append([entry(4, { dataset: 'tax.credit-rating' })]);
    expect((await store.query({}, { first: 100 })).records).toHaveLength(4);
    expect((await store.query({ agency: 'tax' }, { first: 100 })).records.map((r) => r.requestId)).toEqual(['r-2', 'r-4']);
    expect((await store.query({ dataset: 'tax.credit-rating' }, { first: 100 })).records.map((r) => r.requestId)).toEqual(['r-4']);
    expect((await store.query({ entityKey: 'K3' }, { first: 100 })).records.map((r) => r.requestId)).toEqual(['r-3']);
    expect((await store.query({ decision: 'DENY' }, { first: 100 })).records.map((r) => r.requestId)).toEqual(['r-3']);
    expect((await store.query({ since: entry(2).ts, until: entry(3).ts }, { first: 100 })).records.map((r) => r.requestId)).toEqual(['r-2', 'r-3']);
    await store.close();
  });

  it('pages through records with an opaque cursor', async () => {
    const { dataDir, prefix } = setup();
    const store = await open(kind, dataDir, prefix);
    await store.append(Array.from({ length: 7 }, (_, i) => entry(i)));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.query({}, { first: 3, ...(after !== undefined ? { after } : {}) });
      seen.push(...page.records.map((r) => r.requestId));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'r-6']);
    await store.close();
  });

  it('continues the chain after a restart', async () => {
    const { dataDir, prefix } = setup();
    let store = await open(kind, dataDir, prefix);
    await store.append([entry(1), entry(2)]);
    await store.close();
    store = await open(kind, dataDir, prefix);
    await store.append([entry(3)]);
    const { records } = await store.query({}, { first: 10 });
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[2]!.prev).toBe(records[1]!.hash);
    await store.close();
    const v = kind === 'file' ? verifyFileStore(dataDir) : verifyRecords(await readRedisRecords(REDIS, prefix));
    expect(v).toMatchObject({ ok: true, records: 3 });
  });

  it('shares one sync among concurrent appends (group commit)', async () => {
    const { dataDir, prefix } = setup();
    const store = await open(kind, dataDir, prefix);
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.append([entry(i), entry(i + 1000)])));
    const stats = store.stats();
    expect(stats.records).toBe(400);
    expect(stats.appends).toBe(200);
    expect(stats.syncs).toBeLessThan(stats.appends / 4);
    await store.close();
  });
});

describe('verification of the file store', () => {
  const filled = async (): Promise<{ dataDir: string; segment: string; lines: string[] }> => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-audit-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await open('file', dataDir, 'x:');
    for (let i = 1; i <= 5; i++) await store.append([entry(i)]);
    await store.close();
    const segment = path.join(dataDir, 'audit', 'gw-test', '000001.jsonl');
    return { dataDir, segment, lines: readFileSync(segment, 'utf8').trimEnd().split('\n') };
  };

  it('rotates segments by size; queries, verification and a restart run across them, and a missing segment is caught', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-audit-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const quiet = { info() {}, warn() {} };
    let store = await openFileAuditStore({ dataDir, instance: 'gw-test', segmentBytes: 2048, log: quiet });
    for (let i = 1; i <= 30; i++) await store.append([entry(i), entry(100 + i)]);
    await store.close();
    const dir = path.join(dataDir, 'audit', 'gw-test');
    const segments = segmentsOf(dir);
    expect(segments.length).toBeGreaterThan(3);
    // A segment is closed at the first batch that takes it to the limit: no more than one batch over.
    const batch = Buffer.byteLength(readFileSync(path.join(dir, segments[0]!), 'utf8').split('\n')[0]!) * 3;
    for (const seg of segments) expect(readFileSync(path.join(dir, seg)).length).toBeLessThan(2048 + batch);
    expect(verifyFileStore(dataDir)).toMatchObject({ ok: true, records: 60 });

    store = await openFileAuditStore({ dataDir, instance: 'gw-test', segmentBytes: 2048, log: quiet });
    await store.append([entry(61)]);
    const all = (await store.query({}, { first: 1000 })).records;
    expect(all.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    await store.close();
    expect(verifyFileStore(dataDir)).toMatchObject({ ok: true, records: 61 });

    rmSync(path.join(dir, segments[1]!));
    const v = verifyFileStore(dataDir);
    expect(v.ok).toBe(false);
    expect(v.firstBad?.why).toContain('sequence gap');
  });

  it('passes an untouched log', async () => {
    const { dataDir } = await filled();
    expect(verifyFileStore(dataDir)).toMatchObject({ ok: true, records: 5, firstBad: null });
  });

  it('catches an edited line and names it', async () => {
    const { dataDir, segment, lines } = await filled();
    lines[2] = lines[2]!.replace('"agency":"amr"', '"agency":"eeb"').replace('"agency":"tax"', '"agency":"eeb"');
    writeFileSync(segment, `${lines.join('\n')}\n`);
    const v = verifyFileStore(dataDir);
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ seq: 3, where: 'gw-test/000001.jsonl:3', why: expect.stringContaining('edited') });
  });

  it('catches a deleted line', async () => {
    const { dataDir, segment, lines } = await filled();
    lines.splice(1, 1);
    writeFileSync(segment, `${lines.join('\n')}\n`);
    expect(verifyFileStore(dataDir).firstBad).toMatchObject({ seq: 3, why: expect.stringContaining('sequence gap') });
  });

  it('catches two swapped lines', async () => {
    const { dataDir, segment, lines } = await filled();
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    writeFileSync(segment, `${lines.join('\n')}\n`);
    expect(verifyFileStore(dataDir)).toMatchObject({ ok: false, firstBad: { where: 'gw-test/000001.jsonl:2' } });
  });

  it('reports a torn last line on restart, sets it aside and continues the chain', async () => {
    const { dataDir, segment } = await filled();
    appendFileSync(segment, '{"ts":"2026-06-01T00:00:09.000Z","requestId":"r-torn"');
    const warnings: string[] = [];
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-test', log: { info() {}, warn: (l) => warnings.push(l) } });
    expect(warnings.join('\n')).toMatch(/torn last line in gw-test\/000001\.jsonl .* moved to 000001\.jsonl\.torn-\d+/);
    await store.append([entry(6)]);
    await store.close();
    const v = verifyFileStore(dataDir);
    expect(v).toMatchObject({ ok: true, records: 6 });
    expect(v.notes.join('\n')).toContain('torn final line');
    expect(readdirSync(path.dirname(segment)).some((f) => f.includes('.torn-'))).toBe(true);
  });
});

describe('failing closed', () => {
  it('the file store rejects appends while its directory is unusable, and recovers by itself', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-audit-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await open('file', dataDir, 'x:');
    await store.append([entry(1)]);
    const dir = path.join(dataDir, 'audit', 'gw-test');
    // As root, permissions do not stop writes: take the directory away and put a file in its place.
    renameSync(dir, `${dir}.moved`);
    writeFileSync(dir, 'not a directory');
    await expect(store.append([entry(2)])).rejects.toBeInstanceOf(AuditUnavailableError);
    rmSync(dir);
    renameSync(`${dir}.moved`, dir);
    await store.append([entry(3)]);
    await store.close();
    const v = verifyFileStore(dataDir);
    expect(v).toMatchObject({ ok: true, records: 2 });
  });

  describe('the Redis store against a Redis that stops', () => {
    let redis: ChildProcess | null = null;
    let port = 0;
    const startRedis = async (): Promise<void> => {
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const deadline = Date.now() + 5000;
      for (;;) {
        const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.ping();
          c.disconnect();
          return;
        } catch {
          c.disconnect();
          if (Date.now() > deadline) throw new Error('redis-server did not start');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const stopRedis = async (): Promise<void> => {
      const p = redis;
      redis = null;
      if (p === null || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      });
    };
    afterAll(stopRedis);

    it('rejects appends with AuditUnavailableError while Redis is down, and recovers when it is back', async () => {
      port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      await startRedis();
      const store = await openAuditStore({ dataDir: tmpdir(), redisUrl: `redis://127.0.0.1:${port}`, instance: 'gw-redis', redisPrefix: 'fc:' });
      await store.append([entry(1)]);
      await stopRedis();
      await expect(store.append([entry(2)])).rejects.toBeInstanceOf(AuditUnavailableError);
      await startRedis();
      // The store reconnects on its own; the chain head lives in Redis, which restarted empty here,
      // so the first append after recovery starts from what Redis holds.
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          await store.append([entry(3)]);
          break;
        } catch (e) {
          if (!(e instanceof AuditUnavailableError) || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const { records } = await store.query({}, { first: 10 });
      expect(records.map((r) => r.requestId)).toContain('r-3');
      await store.close();
    });
  });
});
