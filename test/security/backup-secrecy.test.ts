import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../ledger/ledger.ts';
import { openFileLog } from '../../ledger/log/file-log.ts';
import { backupCli, linesOf } from '../backup/cli.ts';
import { ROOT } from '../helpers/root.ts';

const KEY = 'correct horse battery staple 42';
const ID_NUMBER = '440102199001011234';
const JUSTIFICATION = 'checking the subsidy claim of a named resident';
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-secrecy-'));

/** An exchange's DATA_DIR with a ledger and an access record naming a person; its env for the backup CLI. */
async function exchange(name: string): Promise<Record<string, string>> {
  const dataDir = path.join(tmp, name, 'data');
  const ledger = await openLedger({ dataDir, redisUrl: null });
  await ledger.record({ type: 'dataset.updated', data: { dataset: 'tax.credit-rating', asOf: '2026-01-01' } }, null);
  await ledger.close();
  const audit = await openFileLog({ dataDir, log: 'audit', chain: 'gw-1', mode: 'exclusive', sink: { info() {}, warn() {} } });
  await audit.append([JSON.stringify({ agency: 'hrss', decision: 'ALLOW', key: ID_NUMBER, justification: JUSTIFICATION })]);
  await audit.close();
  return { DATA_DIR: dataDir, BACKUP_DIR: path.join(tmp, name, 'backups'), OFFSITE_DIR: path.join(tmp, name, 'offsite'), POLICY_DIR: path.join(ROOT, 'policies'), BACKUP_KEY: KEY };
}

const archivesIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.backup')).map((n) => path.join(dir, n));

/** Every line of every ledger segment under a DATA_DIR. */
function ledgerLines(dataDir: string): string[] {
  const dir = path.join(dataDir, 'ledger');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'));
}

describe('backup archives against an operator with access to storage', () => {
  let ours: Record<string, string>;
  let theirs: Record<string, string>;
  beforeAll(async () => {
    ours = await exchange('ours');
    theirs = await exchange('theirs');
    for (const env of [ours, theirs]) {
      const r = await backupCli(['create'], env);
      expect(r.status, linesOf(r).join('\n')).toBe(0);
    }
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('holds no access record, ID number or justification in clear', () => {
    for (const file of [...archivesIn(ours['BACKUP_DIR']!), ...archivesIn(ours['OFFSITE_DIR']!)]) {
      const bytes = readFileSync(file);
      expect(bytes.includes(ID_NUMBER)).toBe(false);
      expect(bytes.includes(JUSTIFICATION)).toBe(false);
      expect(bytes.includes('"decision":"ALLOW"')).toBe(false);
      expect(bytes.includes('tax.credit-rating')).toBe(false);
    }
  });

  it('writes the archive and its off-site copy readable by the owner only (0600)', () => {
    const files = [...archivesIn(ours['BACKUP_DIR']!), ...archivesIn(ours['OFFSITE_DIR']!)];
    expect(files).toHaveLength(2);
    for (const file of files) expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  });

  it('still verifies with BACKUP_KEY, and without it checks every stored byte and says the contents were not opened', async () => {
    const [archive] = archivesIn(ours['BACKUP_DIR']!);
    const withKey = await backupCli(['verify', archive!], ours);
    expect(withKey.status).toBe(0);
    expect(linesOf(withKey).at(-1)).toMatch(/^archive intact: .*: \d+ record\(s\) in 2 chain\(s\), .*keys open with BACKUP_KEY$/);
    const withoutKey = await backupCli(['verify', archive!], { ...ours, BACKUP_KEY: '' });
    expect(withoutKey.status).toBe(0);
    expect(linesOf(withoutKey)[0]).toMatch(/^note: contents not opened: the archive is encrypted and BACKUP_KEY is not set/);
  });

  it("refuses to restore another exchange's archive, naming both log keys", async () => {
    const [foreign] = archivesIn(theirs['BACKUP_DIR']!);
    const target = path.join(tmp, 'restore-refused');
    const r = await backupCli(['restore', foreign!], { ...ours, DATA_DIR: target, POLICY_DIR: path.join(tmp, 'restore-refused-policies') });
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual([expect.stringMatching(/^backup: the archive is another exchange's: signed with log key sha256:[0-9a-f]{16}, this exchange's is sha256:[0-9a-f]{16} \(.*exchange-identity\.pem\); to restore it anyway pass --accept-foreign/)]);
    expect(() => readdirSync(target)).toThrow();
  });

  it('restores it on --accept-foreign with a reason, and records the reason in the ledger', async () => {
    const [foreign] = archivesIn(theirs['BACKUP_DIR']!);
    const target = path.join(tmp, 'restore-accepted');
    const reason = 'moving the neighbour exchange onto this site, ticket 4411';
    const r = await backupCli(['restore', foreign!, '--accept-foreign', reason], { ...ours, DATA_DIR: target, POLICY_DIR: path.join(tmp, 'restore-accepted-policies') });
    expect(r.status, linesOf(r).join('\n')).toBe(0);
    const recorded = ledgerLines(target).filter((l) => l.includes('backup.foreign-restored'));
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toContain(reason);
  });
});
