import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditReader } from '../../ledger/audit-reader.ts';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { startArchiving } from '../../ledger/archive/start.ts';
import { openGrantStore } from '../../ledger/grants.ts';
import { LEDGER_CHAIN, LEDGER_LOG, openLedger } from '../../ledger/ledger.ts';
import { EMPTY_HEAD } from '../../ledger/log/chain.ts';
import { createDatabase } from '../archive/database.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../helpers/wait.ts';
import { accessEntry, bodyOf, fileStorage, headOf, rechain, redisStorage, type Storage } from './attack.ts';

const REDIS = 'redis://127.0.0.1:6379';
const CHAIN = 'gw-1';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


type Kind = 'file' | 'redis';

/**
 * An access log of three genuine records, then a record blaming tax for an ALLOW read of
 * Person.criminalRecord appended by an insider with write access to the store (correctly chained,
 * no log key), then a genuine record the gateway writes after it (seq 5).
 */
async function forgedInTheMiddle(kind: Kind) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-forged-reads-'));
  const dataDir = path.join(tmp, 'data');
  const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  const storage: Storage = kind === 'file' ? fileStorage(dataDir, 'audit') : redisStorage(REDIS, prefix, 'audit');
  cleanups.push(async () => {
    await storage.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  const at = { dataDir, redisUrl: kind === 'redis' ? REDIS : null, redisPrefix: prefix };
  let store = await openAuditStore({ ...at, instance: CHAIN });
  for (let i = 1; i <= 3; i++) await store.append([accessEntry(i)]);
  await store.close();
  const lines = await storage.lines(CHAIN);
  const last = lines[lines.length - 1]!;
  const blame = { ...bodyOf(last), ts: new Date(Date.UTC(2026, 5, 1, 0, 0, 10)).toISOString(), agency: 'tax', coordinate: 'Person.criminalRecord', dataset: 'psb.criminal-records', provider: 'psb', decision: 'ALLOW', entityKeys: ['440102198001010011'] };
  await storage.append(CHAIN, rechain([blame], CHAIN, headOf(last)));
  store = await openAuditStore({ ...at, instance: CHAIN });
  await store.append([accessEntry(20)]);
  await store.close();
  return { at, dataDir, prefix, storage };
}

describe.each<Kind>(['file', 'redis'])('audit reads never show a record the log key did not seal (%s store)', (kind) => {
  it('hides a forged ALLOW read of Person.criminalRecord blamed on tax from accessHistory and auditRecords, names it in a warning, and shows the genuine records around it', async () => {
    const s = await forgedInTheMiddle(kind);
    const warnings: string[] = [];
    const read = auditReader(s.at, (l) => warnings.push(l));

    const blamed = await read({ coordinate: 'Person.criminalRecord' }, { first: 10 });
    expect(blamed.records).toEqual([]);
    const all = await read({}, { first: 10 });
    expect(all.records.map((r) => r.seq)).toEqual([1, 2, 3, 5]);
    expect(all.records.every((r) => r.agency === 'amr')).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/^audit: records 4\.\.4 of chain gw-1 .*are not shown: forged: records 4\.\.4 carry no signature of the log key/)]);
  });

  it('does not show a forged record appended at the end of a chain that no seal covers', async () => {
    const s = await forgedInTheMiddle(kind);
    const lines = await s.storage.lines(CHAIN);
    const blame = { ...bodyOf(lines[lines.length - 1]!), agency: 'tax', coordinate: 'Person.criminalRecord', decision: 'ALLOW' };
    await s.storage.append(CHAIN, rechain([blame], CHAIN, headOf(lines[lines.length - 1]!)));
    const read = auditReader(s.at, () => undefined);

    expect((await read({ agency: 'tax' }, { first: 10 })).records).toEqual([]);
    expect((await read({}, { first: 10 })).records.map((r) => r.seq)).toEqual([1, 2, 3, 5]);
  });
});

describe('npm run audit -- query and the archive shipper skip forged records', () => {
  it('prints only sealed records and names the forged and the unsealed ones on stderr', async () => {
    const s = await forgedInTheMiddle('file');
    const lines = await s.storage.lines(CHAIN);
    await s.storage.append(CHAIN, rechain([{ ...bodyOf(lines[lines.length - 1]!), agency: 'tax' }], CHAIN, headOf(lines[lines.length - 1]!)));

    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/audit.ts', 'query', '--json'], { cwd: ROOT, env: { ...process.env, DATA_DIR: s.dataDir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<number | null>((r) => child.on('exit', r));

    expect(status).toBe(0);
    const printed = out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; agency: string });
    expect(printed.map((r) => r.seq)).toEqual([1, 2, 3, 5]);
    expect(err).toMatch(/warning: audit: records 4\.\.4 of chain gw-1 .*forged/);
    expect(err).toMatch(/warning: audit: records 6\.\.6 of chain gw-1 .*no seal covers them yet/);
  });

  it('ships the sealed records before a forged one into the archive, never the forged one, and warns naming it', async () => {
    const s = await forgedInTheMiddle('file');
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const warnings: string[] = [];
    const shipper = startArchiving({ archiveUrl: db.url(), dataDir: s.dataDir, redisUrl: null, redisPrefix: '', sink: { info() {}, warn: (l) => warnings.push(l) }, everyMs: 50 });
    cleanups.push(() => shipper.stop());

    await until(async () => warnings.some((w) => /not shipped: forged: records 4\.\.4/.test(w)) && shipper.chains().some((c) => c.log === 'audit' && c.problem !== null));
    const archived = await db.pool().query<{ agency: string }>('SELECT agency FROM access_records');
    expect(archived.rows.map((r) => r.agency)).toEqual(['amr', 'amr', 'amr']);
    expect(warnings.find((w) => /not shipped/.test(w))).toMatch(/archive: records 4\.\.4 of audit\/gw-1 .*not shipped: forged/);
  });
});

describe('a ledger written before seals existed', () => {
  it('is not folded in silence: the grant store warns that its events carry no seal and are not applied', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-legacy-ledger-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const dataDir = path.join(tmp, 'data');
    const ledger = await openLedger({ dataDir, redisUrl: null, sink: { info() {}, warn() {} } });
    await ledger.record({ type: 'request.filed', data: { consumer: 'tax', provider: 'eeb', datasets: ['eeb.emissions'], purposes: ['market-supervision'], legalBasis: 'R-11', justification: 'old', validUntil: '2030-12-31', receivedAt: '2026-06-01T00:00:00.000Z' } }, { sub: 'officer-1', agency: 'tax' });
    await ledger.close();
    // The same events as an earlier version wrote them: hash-chained, without seals.
    const storage = fileStorage(dataDir, LEDGER_LOG);
    await storage.replace(LEDGER_CHAIN, rechain((await storage.lines(LEDGER_CHAIN)).map(bodyOf), LEDGER_CHAIN, EMPTY_HEAD));

    const warnings: string[] = [];
    const grants = await openGrantStore({ dataDir, redisUrl: null, redisPrefix: '', log: (l) => warnings.push(l) });
    cleanups.push(() => grants.close());
    await grants.snapshot();
    expect(warnings).toContainEqual(expect.stringMatching(/^ledger: events 1\.\.1 of chain authority carry no seal of the log key and are not applied/));
  });
});
