import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../gateway/audit/verify.ts';
import { verifyLedger } from '../../ledger/ledger.ts';
import { startExchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { backupCli, linesOf } from './cli.ts';

const REDIS = 'redis://127.0.0.1:6379';
const prefix = `test:${randomBytes(4).toString('hex')}:`;
const ENT = '91445202MA4W3K7PX2';
const FILE = `mutation { fileSharingRequest(provider: "tax", datasets: ["tax.credit-rating"], purposes: ["environmental-enforcement"], legalBasis: "《揭阳市企业基础信息共享试点》第三条", justification: "环境信用评价需要纳税信用等级", validUntil: "2027-12-31") { id } }`;
const REQUESTS = '{ sharingRequests(role: PROVIDER) { id consumer datasets status } }';
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-redis-'));
const dataDir = path.join(tmp, 'data');
const offsiteDir = path.join(tmp, 'offsite');
const env: Record<string, string> = { DATA_DIR: dataDir, REDIS_URL: REDIS, REDIS_PREFIX: prefix, BACKUP_DIR: path.join(tmp, 'backups'), OFFSITE_DIR: offsiteDir, BACKUP_KEY: 'redis drill backup key', POLICY_DIR: path.join(ROOT, 'policies') };
const at = { dataDir, redisUrl: REDIS, redisPrefix: prefix };

async function flushPrefix(): Promise<void> {
  const redis = new Redis(REDIS);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

afterAll(async () => {
  await flushPrefix();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the restore drill with the Redis store', () => {
  // Four CLI runs and two exchanges: more than the default 30 s on a loaded machine.
  it('restores a flushed Redis prefix from the off-site copy, and the exchange continues every chain', async () => {
    const gw = { REDIS_URL: REDIS, REDIS_PREFIX: prefix, INSTANCE_ID: 'gw-redis' };
    const ex = await startExchange({ dataDir, env: gw });
    let requests: unknown;
    try {
      expect((await ex.query(FILE, { agency: 'eeb' })).body.errors).toBeUndefined();
      for (let i = 0; i < 5; i++) await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'eeb' });
      requests = (await ex.query(REQUESTS, { agency: 'tax' })).body.data;
      const created = await backupCli(['create'], env);
      expect(created.status, linesOf(created).join('\n')).toBe(0);
      // More reads, then an increment: only what was added since; retention keeps the base it needs.
      for (let i = 0; i < 3; i++) await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' });
      const increment = await backupCli(['create', '--incremental'], env);
      expect(increment.status, linesOf(increment).join('\n')).toBe(0);
      expect(linesOf(increment)[0]).toMatch(/^created .*\.backup \(incremental on exchange-[^)]*\): \d+ record\(s\) in 2 chain\(s\)/);
      expect(readdirSync(offsiteDir).filter((n) => n.endsWith('.backup'))).toHaveLength(2);
    } finally {
      await ex.close();
    }
    const before = await verifyAuditLog(at);
    expect(before.ok).toBe(true);

    // Redis is flushed and the disk with the witnesses and keys is lost.
    await flushPrefix();
    rmSync(dataDir, { recursive: true, force: true });
    // The newest archive is the increment: it restores with its base, found beside it off-site.
    const archive = path.join(offsiteDir, readdirSync(offsiteDir).filter((n) => n.endsWith('.backup')).sort().at(-1)!);
    const restored = await backupCli(['restore', archive], env);
    expect(restored.status, linesOf(restored).join('\n')).toBe(0);
    const audit = await verifyAuditLog(at);
    expect(audit).toMatchObject({ ok: true });
    expect(audit.records).toBeGreaterThanOrEqual(5);
    expect((await verifyLedger(at)).ok).toBe(true);

    const again = await startExchange({ dataDir, env: gw });
    try {
      expect((await again.query(REQUESTS, { agency: 'tax' })).body.data).toEqual(requests);
      expect((await again.query(FILE, { agency: 'amr' })).body.errors).toBeUndefined();
    } finally {
      await again.close();
    }
    const after = await verifyAuditLog(at);
    expect(after.ok).toBe(true);
    expect(after.records).toBeGreaterThan(audit.records);
    expect((await verifyLedger(at)).ok).toBe(true);

    const refused = await backupCli(['restore', archive], { ...env, DATA_DIR: path.join(tmp, 'other') });
    expect(refused.status).toBe(1);
    expect(linesOf(refused)).toEqual([`backup: Redis already holds keys under the prefix "${prefix}": restore only into an empty prefix (choose a new REDIS_PREFIX, or delete those keys first)`]);
  }, 90_000);
});
