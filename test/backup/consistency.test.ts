import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkArchive } from '../../ledger/backup/check.ts';
import { createBackup } from '../../ledger/backup/create.ts';
import { openFileLog } from '../../ledger/log/file-log.ts';
import { readWitness } from '../../ledger/log/witness.ts';
import { ROOT } from '../helpers/root.ts';

const KEY = 'consistency backup key';
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-consistency-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const source = (dataDir: string) => ({ dataDir, policyDir: path.join(ROOT, 'policies'), redisUrl: null, redisPrefix: 'exchange:' });
const sink = { info() {}, warn() {} };

describe('an archive taken while the log is written', () => {
  it('copies whole records only: a half-written last line stays out, and the copied head gets a signed checkpoint', async () => {
    const dataDir = path.join(tmp, 'torn');
    const w = await openFileLog({ dataDir, log: 'audit', chain: 'gw-1', mode: 'exclusive', sink, witnessEveryMs: 60_000 });
    await w.append(['{"n":1}', '{"n":2}', '{"n":3}']);
    // A write in flight: no newline yet.
    appendFileSync(path.join(dataDir, 'audit', 'gw-1', '000001.jsonl'), '{"n":4,"instance":"gw-1","se');
    const created = await createBackup({ source: source(dataDir), backupDir: path.join(tmp, 'b1'), backupKey: KEY });
    await w.close();
    expect(created.manifest.chains.find((c) => c.log === 'audit')).toMatchObject({ chain: 'gw-1', seq: 3 });
    const checked = await checkArchive(readFileSync(created.file), { backupKey: KEY, trustedPublicKeyPem: null });
    expect(checked.ok).toBe(true);
  });

  it('verifies when taken while appends run, each chain cut at a head at or past its witness', async () => {
    const dataDir = path.join(tmp, 'busy');
    const w = await openFileLog({ dataDir, log: 'ledger', chain: 'authority', mode: 'shared', sink, witnessEveryMs: 5 });
    await w.append(['{"n":0}']);
    let writing = true;
    const appends = (async () => {
      for (let i = 1; writing && i < 20_000; i++) await w.append([`{"n":${i}}`]);
    })();
    const created = await createBackup({ source: source(dataDir), backupDir: path.join(tmp, 'b2'), backupKey: KEY });
    writing = false;
    await appends;
    await w.close();
    const head = created.manifest.chains.find((c) => c.log === 'ledger')!;
    expect(head.seq).toBeGreaterThanOrEqual(head.witnessSeq);
    expect(readWitness(dataDir, 'ledger', 'authority')!.seq).toBeGreaterThanOrEqual(head.seq);
    expect((await checkArchive(readFileSync(created.file), { backupKey: KEY, trustedPublicKeyPem: null })).ok).toBe(true);
  });
});
