import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { openGrantStore } from '../../ledger/grants.ts';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { openSharingPolicy } from '../../gateway/sharing/policy.ts';
import type { Caller } from '../../gateway/sharing/types.ts';
import { startRelay } from '../helpers/relay.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../helpers/wait.ts';

const REDIS_PORT = 6379;
const catalog = readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'));
const civil: Caller = { sub: 'civil-1', agency: 'civil', roles: [], purpose: 'statistics' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  // Every cleanup runs, so a failed close still deletes this test's Redis keys.
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch((e: unknown) => errors.push(e));
  if (errors.length > 0) throw errors[0];
});

/** A relay to the machine's Redis that the test can cut and restore, like a network outage. */
async function redisRelay(): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void> }> {
  const relay = await startRelay(REDIS_PORT);
  cleanups.push(() => relay.close());
  return { url: `redis://127.0.0.1:${relay.port}`, cut: () => relay.cut(), restore: () => relay.restore() };
}

describe('policy reload whose Redis publish fails', () => {
  it('logs that the policy is not published, keeps applying later changes, and publishes at the next touch', async () => {
    const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    const admin = new Redis(`redis://127.0.0.1:${REDIS_PORT}`);
    cleanups.push(async () => {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(() => void process.off('unhandledRejection', onUnhandled));

    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-publish-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const policyDir = path.join(tmp, 'policies');
    cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
    const relay = await redisRelay();
    const logs: string[] = [];
    const policy = await openSharingPolicy({ catalog, policyDir, dataDir: path.join(tmp, 'data'), redisUrl: relay.url, redisPrefix: prefix, unclassified: 'deny', log: (l) => logs.push(l), reloadDelayMs: 20 });
    cleanups.push(() => policy.close());
    // Another gateway on the same Redis, reached directly: it sees what this one publishes.
    const other = await openGrantStore({ dataDir: path.join(tmp, 'other'), redisUrl: `redis://127.0.0.1:${REDIS_PORT}`, redisPrefix: prefix });
    cleanups.push(() => other.close());

    await relay.cut();
    writeFileSync(path.join(policyDir, 'civil.csv'), 'p2, g-civil-1, civil, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, test basis\n');
    await until(() => logs.some((l) => l.includes('is not published to the other gateways')));
    // The new file runs here even though the others could not be told.
    expect(policy.decide(civil, 'Enterprise.insuredEmployees', Date.parse('2026-06-01T00:00:00Z')).reason).toBe('GRANT');

    await relay.restore();
    // A change another gateway files after the failure is still applied here.
    await other.apply({ op: 'grant', grant: { id: 'g-after', consumer: 'civil', dataset: 'eeb.enterprise-emissions', purposes: ['statistics'], validFrom: '2026-01-01', validUntil: '2030-01-01' } });
    await until(() => policy.decide(civil, 'Enterprise.emissions', Date.parse('2026-06-01T00:00:00Z')).reason !== 'GRANT_REQUIRED');

    // Touching the unchanged file publishes the revision the others missed.
    writeFileSync(path.join(policyDir, 'civil.csv'), readFileSync(path.join(policyDir, 'civil.csv')));
    await until(async () => 'civil.csv' in ((await other.snapshot()).policy?.texts ?? {}));
    await expect(policy.explain(civil, 'Enterprise.insuredEmployees')).resolves.toBeDefined();
    expect(unhandled).toEqual([]);
  });
});
