import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { auditBodies, auditBody, SALT_HEX, type AuditEntry } from '../../gateway/audit/record.ts';
import { AuditUnavailableError, openAuditStore, type AuditStore } from '../../gateway/audit/store.ts';
import { verifyAuditLog } from '../../gateway/audit/verify.ts';
import { privateRedis } from '../helpers/redis-server.ts';
import { succeeds } from '../helpers/wait.ts';

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

describe('the audit record body', () => {
  it('lists every field of an access record in a fixed order, as the JSON of the entry', () => {
    const e = entry(1);
    const text = auditBody(e);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['ts', 'requestId', 'operationName', 'operationHash', 'sub', 'agency', 'roles', 'purpose', 'coordinate', 'dataset', 'provider', 'class', 'decision', 'reason', 'grantId', 'entityKeys', 'count']);
    expect(text).toBe(JSON.stringify(e));
  });

  it('builds the same bodies for a request as one record at a time, each with its own salt, whatever the requests mix', () => {
    const roles = ['auditor'];
    const first = { ts: '2026-06-01T00:00:00.000Z', requestId: 'r-a', roles, operationName: 'Joined' };
    const entries = [
      entry(1, { ...first, coordinate: 'Enterprise.name' }),
      entry(1, { ...first, coordinate: 'Enterprise.status', decision: 'DENY', reason: 'NOT_SHARED' }),
      entry(1, { ...first, roles: ['auditor'], coordinate: 'Enterprise.address' }),
      entry(2, { coordinate: 'Person.name', operationName: 'Other "quoted" name' }),
      entry(2, { coordinate: 'Person.name', purpose: null }),
    ];
    const salts = Array.from({ length: entries.length }, (_, i) => String(i).repeat(SALT_HEX));
    expect(auditBodies(entries, salts.join(''))).toEqual(entries.map((e, i) => auditBody(e, salts[i])));
    expect(JSON.parse(auditBodies(entries, salts.join(''))[4]!)).toEqual({ ...entries[4], salt: salts[4] });
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
    const v = await verifyAuditLog({ dataDir, redisUrl: kind === 'redis' ? REDIS : null, redisPrefix: prefix });
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
    const v = await verifyAuditLog({ dataDir, redisUrl: null, redisPrefix: '' });
    expect(v).toMatchObject({ ok: true, records: 2 });
  });

  it('the Redis store rejects appends with AuditUnavailableError while Redis is down, and recovers when it is back', async () => {
    const redis = await privateRedis();
    cleanups.push(() => redis.kill());
    await redis.start();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-audit-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openAuditStore({ dataDir, redisUrl: redis.url, instance: 'gw-redis', redisPrefix: 'fc:' });
    await store.append([entry(1)]);
    await redis.kill();
    await expect(store.append([entry(2)])).rejects.toBeInstanceOf(AuditUnavailableError);
    await redis.start();
    // The store reconnects on its own; Redis restarted empty here, so the loss is reported and
    // the chain goes on from the acknowledged head.
    await succeeds(() => store.append([entry(3)]), (e) => e instanceof AuditUnavailableError);
    const { records } = await store.query({}, { first: 10 });
    expect(records.map((r) => r.requestId)).toContain('r-3');
    await store.close();
  });
});
