import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../gateway/audit/verify.ts';
import { parseArchive } from '../../ledger/backup/archive.ts';
import { verifyLedger } from '../../ledger/ledger.ts';
import { fileLogReader } from '../../ledger/log/file-log.ts';
import type { LogRecord } from '../../ledger/log/chain.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { backupCli, linesOf } from './cli.ts';

const ENT = '91445202MA4W3K7PX2';
const FILE = `mutation File($p: String!, $d: [String!]!, $u: [String!]!) {
  fileSharingRequest(provider: $p, datasets: $d, purposes: $u, legalBasis: "《揭阳市企业基础信息共享试点》第三条", justification: "环境信用评价需要纳税信用等级", validUntil: "2027-12-31") { id }
}`;
const REQUESTS = '{ sharingRequests(role: PROVIDER) { id consumer datasets status } }';

const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-drill-'));
const dataDir = path.join(tmp, 'data');
const offsiteDir = path.join(tmp, 'offsite');
const env: Record<string, string> = { DATA_DIR: dataDir, BACKUP_DIR: path.join(tmp, 'backups'), OFFSITE_DIR: offsiteDir, BACKUP_KEY: 'drill backup key, kept apart', POLICY_DIR: path.join(ROOT, 'policies'), INSTANCE_ID: 'gw-drill' };
const at = { dataDir, redisUrl: null, redisPrefix: 'exchange:' };
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function chainRecords(log: string, chain: string): Promise<LogRecord[]> {
  const reader = fileLogReader(dataDir, log);
  try {
    return await reader.read(chain, 0, 1_000_000);
  } finally {
    await reader.close();
  }
}

function fileRequest(ex: Exchange, consumer: string): Promise<string> {
  return ex.query(FILE, { agency: consumer, variables: { p: 'tax', d: ['tax.credit-rating'], u: ['environmental-enforcement'] } }).then((r) => {
    expect(r.body.errors).toBeUndefined();
    return (r.body.data?.['fileSharingRequest'] as { id: string }).id;
  });
}

describe('the restore drill: back up under load, lose DATA_DIR, restore from the off-site copy, continue', () => {
  it('restores the access history, requests and grants, and a restarted exchange continues every chain', async () => {
    const ex = await startExchange({ dataDir, env: { INSTANCE_ID: 'gw-drill' } });
    const allowed = (): Promise<unknown> => ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'eeb' }).then((r) => expect(r.body.errors).toBeUndefined());
    const denied = (): Promise<unknown> => ex.query(`{ enterprise(uscc: "${ENT}") { taxCreditGrade } }`, { agency: 'eeb', purpose: 'environmental-enforcement' }).then((r) => expect(r.body.errors).toBeDefined());
    let requests: unknown;
    let archiveFile: string;
    try {
      const id = await fileRequest(ex, 'eeb');
      const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id, conditions: "仅用于环境信用评价") { status grantIds } }', { agency: 'tax', variables: { id } });
      expect(approved.body.data?.['approveSharingRequest']).toEqual({ status: 'APPROVED', grantIds: [`g-${id}-1`] });
      await fileRequest(ex, 'amr');
      for (let i = 0; i < 5; i++) await Promise.all([allowed(), denied()]);
      requests = (await ex.query(REQUESTS, { agency: 'tax' })).body.data;

      // Load keeps running while the backup copies the logs.
      let loading = true;
      let served = 0;
      const load = (async () => {
        for (let i = 0; loading && i < 5000; i++) {
          await Promise.all([allowed(), denied()]);
          served++;
        }
      })();
      const created = await backupCli(['create'], env);
      loading = false;
      await load;
      expect(created.status, linesOf(created).join('\n')).toBe(0);
      expect(served).toBeGreaterThan(0);
      expect(linesOf(created)).toEqual([
        expect.stringMatching(/^created .*\.backup: \d+ record\(s\) in 2 chain\(s\), \d+ file\(s\), \d+ bytes, keys sealed with BACKUP_KEY$/),
        expect.stringMatching(/^off-site copy verified byte for byte: /),
        expect.stringMatching(/^recorded in the ledger as event \d+ \(backup\.created\)$/),
      ]);
      archiveFile = path.join(offsiteDir, readdirSync(offsiteDir)[0]!);
    } finally {
      await ex.close();
    }

    // What the archive holds, as it was on the live exchange.
    const parsed = parseArchive(readFileSync(archiveFile));
    if (typeof parsed === 'string') throw new Error(parsed);
    const head = (log: string, chain: string): number => parsed.manifest.chains.find((c) => c.log === log && c.chain === chain)!.seq;
    const auditHead = head('audit', 'gw-drill');
    const ledgerHead = head('ledger', 'authority');
    const accessBefore = (await chainRecords('audit', 'gw-drill')).filter((r) => r.seq <= auditHead).map((r) => r.line);
    const ledgerBefore = (await chainRecords('ledger', 'authority')).filter((r) => r.seq <= ledgerHead).map((r) => r.line);
    expect(accessBefore).toHaveLength(auditHead);
    expect(auditHead).toBeGreaterThanOrEqual(10);

    // The disk dies.
    rmSync(dataDir, { recursive: true, force: true });
    const restored = await backupCli(['restore', archiveFile], env);
    expect(restored.status, linesOf(restored).join('\n')).toBe(0);
    expect(linesOf(restored)).toEqual([expect.stringMatching(/^restored exchange-.*\.backup into DATA_DIR .*: \d+ record\(s\) in 2 chain\(s\), \d+ file\(s\); next: npm run audit -- verify, then start the exchange$/)]);
    expect((await verifyAuditLog(at)).ok).toBe(true);
    expect((await verifyLedger(at)).ok).toBe(true);
    expect((await chainRecords('audit', 'gw-drill')).map((r) => r.line)).toEqual(accessBefore);
    expect((await chainRecords('ledger', 'authority')).map((r) => r.line)).toEqual(ledgerBefore);

    const again = await startExchange({ dataDir, env: { INSTANCE_ID: 'gw-drill' } });
    try {
      expect((await again.query(REQUESTS, { agency: 'tax' })).body.data).toEqual(requests);
      await fileRequest(again, 'hrss');
      await again.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'eeb' });
    } finally {
      await again.close();
    }
    const ledgerAfter = await chainRecords('ledger', 'authority');
    expect(ledgerAfter.length).toBeGreaterThan(ledgerHead);
    expect(ledgerAfter.slice(0, ledgerHead).map((r) => r.line)).toEqual(ledgerBefore);
    const accessAfter = await chainRecords('audit', 'gw-drill');
    expect(accessAfter.length).toBeGreaterThan(auditHead);
    expect(accessAfter.slice(0, auditHead).map((r) => r.line)).toEqual(accessBefore);
    const audit = await verifyAuditLog(at);
    const ledger = await verifyLedger(at);
    expect(audit).toMatchObject({ ok: true, records: accessAfter.length });
    expect(ledger).toMatchObject({ ok: true, records: ledgerAfter.length });
  });
});
