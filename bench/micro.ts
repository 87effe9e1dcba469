import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditEntry } from '../gateway/audit/record.ts';
import { openAuditStore } from '../gateway/audit/store.ts';
import { readCatalog } from '../gateway/sharing/catalog.ts';
import { openSharingPolicy } from '../gateway/sharing/policy.ts';
import type { Caller } from '../gateway/sharing/types.ts';

export interface MicroResult {
  readonly cachedDecisionsPerSecond: number;
  readonly coldDecisionsPerSecond: number;
  readonly reloadMs: number;
  readonly grantLines: number;
  readonly auditRecordsPerSecond: number;
  readonly auditBatches: number;
  readonly auditSyncs: number;
}

const ROOT = path.resolve(import.meta.dirname, '..');
const GRANT_LINES = 100_000;

/** In-process micro benchmarks: decisions, policy load at 100,000 grant lines, durable audit records. */
export async function runMicro(dir: string): Promise<MicroResult> {
  const catalog = readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'));
  const policyDir = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
  // 100,000 grant lines for real agencies, datasets and purposes, most of them expired or future.
  const agencies = ['amr', 'tax', 'hrss', 'eeb', 'psb', 'civil', 'drc', 'stats'];
  const conditional = [...catalog.datasets.values()].filter((d) => d.class === 'CONDITIONAL');
  const purposes = ['tax-collection', 'market-supervision', 'statistics', 'credit-supervision'];
  const lines: string[] = [];
  for (let i = 0; i < GRANT_LINES; i++) {
    const year = 2000 + (i % 24);
    lines.push(`p, g-bench-${i}, ${agencies[i % agencies.length]}, ${conditional[i % conditional.length]!.id}, ${purposes[i % purposes.length]}, ${year}-01-01, ${year + 1}-01-01`);
  }
  writeFileSync(path.join(policyDir, 'bench-grants.csv'), `${lines.join('\n')}\n`);

  let started = performance.now();
  const policy = await openSharingPolicy({ catalog, policyDir, dataDir: path.join(dir, 'data'), redisUrl: null, unclassified: 'deny' });
  const reloadMs = performance.now() - started;

  const callers: Caller[] = agencies.map((agency) => ({ sub: 'bench', agency, roles: [], purpose: 'tax-collection' }));
  const coordinates = [...catalog.byCoordinate.keys()];
  // Cold: every decision computed from the index (the cache is emptied by the version change each round).
  let n = 0;
  started = performance.now();
  const now = Date.now();
  for (let round = 0; round < 20; round++) {
    for (const c of callers) for (const coord of coordinates) {
      policy.decide(c, coord, now - 1 - round * 7_200_000); // another time than now: never cached
      n++;
    }
  }
  const coldDecisionsPerSecond = n / ((performance.now() - started) / 1000);
  n = 0;
  started = performance.now();
  for (let round = 0; round < 400; round++) {
    for (const c of callers) for (const coord of coordinates) {
      policy.decide(c, coord);
      n++;
    }
  }
  const cachedDecisionsPerSecond = n / ((performance.now() - started) / 1000);
  await policy.close();

  // Durable audit records: 32 concurrent writers of 8-record requests, as a busy gateway would send.
  const auditDir = path.join(dir, 'audit-data');
  mkdirSync(auditDir, { recursive: true });
  const store = await openAuditStore({ dataDir: auditDir, redisUrl: null, instance: 'bench' });
  const entry: AuditEntry = {
    ts: new Date().toISOString(), requestId: 'r', operationName: 'Joined', operationHash: 'h'.repeat(64), sub: 'bench', agency: 'tax', roles: [], purpose: 'tax-collection',
    coordinate: 'Enterprise.insuredEmployees', dataset: 'hrss.enterprise-insurance', provider: 'hrss', class: 'CONDITIONAL', decision: 'ALLOW', reason: 'GRANT', grantId: 'g', entityKeys: ['91445202MA4W3K7PX2'], count: 1,
  };
  const batch = Array.from({ length: 8 }, () => entry);
  const total = 200_000;
  started = performance.now();
  let written = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (written < total) {
      written += batch.length;
      await store.append(batch);
    }
  }));
  const auditRecordsPerSecond = store.stats().records / ((performance.now() - started) / 1000);
  const stats = store.stats();
  await store.close();
  return { cachedDecisionsPerSecond, coldDecisionsPerSecond, reloadMs, grantLines: lines.length, auditRecordsPerSecond, auditBatches: stats.appends, auditSyncs: stats.syncs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'exchange-micro-'));
  console.log(await runMicro(dir));
  rmSync(dir, { recursive: true, force: true });
}
