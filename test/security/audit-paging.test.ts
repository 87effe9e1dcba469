import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogReader, pageAuditRecords, readAuditRecords } from '../../ledger/audit-reader.ts';
import type { AuditEntry } from '../../gateway/audit/record.ts';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { filterRecords } from '../../ledger/audit-filter.ts';
import type { LogReader } from '../../ledger/log/log.ts';

const ENT = '91445202MA4W3K7PX2';

describe('auditors\u2019 reads of the log', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('page through the store a bounded batch at a time, with the same pages as a read of the whole log', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'exchange-paging-'));
    dirs.push(dataDir);
    const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'paging' });
    const agencies = ['amr', 'tax', 'hrss', 'eeb'];
    const entry = (i: number): AuditEntry => ({
      ts: new Date(Date.UTC(2026, 0, 1) + (i % 997) * 1000).toISOString(), requestId: `r${i}`, operationName: null, operationHash: 'h', sub: 's', agency: agencies[i % 4]!, roles: [], purpose: null,
      coordinate: 'Enterprise.name', dataset: 'amr.enterprise-registration', provider: 'amr', class: 'UNCONDITIONAL', decision: i % 3 === 0 ? 'DENY' : 'ALLOW', reason: null, grantId: null, entityKeys: i % 5 === 0 ? [ENT] : [], count: 1,
    });
    for (let i = 0; i < 3000; i += 500) await store.append(Array.from({ length: 500 }, (_, k) => entry(i + k)));
    await store.close();

    const inner = auditLogReader({ dataDir, redisUrl: null, redisPrefix: '' });
    let largestRead = 0;
    const counting: LogReader = { ...inner, chains: () => inner.chains(), watch: (c, w) => inner.watch(c, w), close: () => inner.close(), read: (chain, after, limit) => ((largestRead = Math.max(largestRead, limit)), inner.read(chain, after, limit)) };
    const whole = await readAuditRecords(inner);
    for (const filter of [{}, { agency: 'tax', decision: 'DENY' as const }, { entityKey: ENT.toLowerCase() }]) {
      const paged: string[] = [];
      let after: string | undefined;
      do {
        const page = await pageAuditRecords(counting, filter, { first: 97, ...(after !== undefined ? { after } : {}) });
        paged.push(...page.records.map((r) => r.requestId));
        after = page.next ?? undefined;
      } while (after !== undefined);
      expect(paged).toEqual(filterRecords(whole, filter, { first: 10_000 }).records.map((r) => r.requestId));
      expect(paged.length).toBeGreaterThan(0);
    }
    expect(largestRead).toBeLessThanOrEqual(1000);
    await inner.close();
  });
});
