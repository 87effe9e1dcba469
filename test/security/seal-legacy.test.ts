import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditReader } from '../../ledger/audit-reader.ts';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { verifyAuditLog } from '../../gateway/audit/verify.ts';
import { openGrantStore } from '../../ledger/grants.ts';
import { LEDGER_CHAIN, LEDGER_LOG, openLedger, verifyLedger } from '../../ledger/ledger.ts';
import { EMPTY_HEAD } from '../../ledger/log/chain.ts';
import { checkpointSigner } from '../../ledger/log/witness.ts';
import { ROOT } from '../helpers/root.ts';
import { bodyOf, fileStorage, headOf, localWitness, rechain } from './attack.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const REQUEST = { consumer: 'amr', provider: 'eeb', datasets: ['eeb.emissions'], purposes: ['market-supervision'], legalBasis: 'R-11', justification: 'inspections', validUntil: '2030-12-31', receivedAt: '2026-06-01T00:00:00.000Z' };
const GRANT = { consumer: 'amr', dataset: 'eeb.emissions', purposes: ['market-supervision'], validFrom: '2026-01-01', validUntil: '2030-12-31' };

/** A ledger as the version before seals wrote it: a request and its approval, hash-chained, witnessed, unsealed. */
async function legacyLedger(): Promise<string> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-seal-legacy-'));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const dataDir = path.join(tmp, 'data');
  const ledger = await openLedger({ dataDir, redisUrl: null, sink: { info() {}, warn() {} } });
  await ledger.record({ type: 'request.filed', data: REQUEST }, { sub: 'officer-1', agency: 'amr' });
  await ledger.record({ type: 'request.approved', data: { id: 'sr-1', conditions: null, grants: [GRANT] } }, { sub: 'head-1', agency: 'eeb' });
  await ledger.close();
  const storage = fileStorage(dataDir, LEDGER_LOG);
  const lines = rechain((await storage.lines(LEDGER_CHAIN)).map(bodyOf), LEDGER_CHAIN, EMPTY_HEAD);
  await storage.replace(LEDGER_CHAIN, lines);
  const head = headOf(lines[lines.length - 1]!);
  localWitness(dataDir, LEDGER_LOG, LEDGER_CHAIN).write([checkpointSigner(dataDir).sign(LEDGER_CHAIN, head.seq, head.hash)]);
  // And one gateway's access log of the same age.
  const store = await openAuditStore({ dataDir, redisUrl: null, instance: 'gw-old' });
  await store.append([{ ts: '2026-06-01T00:00:00.000Z', requestId: 'req-1', operationName: 'Registry', operationHash: 'a'.repeat(64), sub: 'officer-1', agency: 'amr', roles: ['officer'], purpose: 'market-supervision', coordinate: 'Enterprise.name', dataset: 'amr.registry', provider: 'amr', class: 'OPEN', decision: 'ALLOW', reason: null, grantId: null, entityKeys: ['91445202MA4W3K7PX2'], count: 1 }]);
  await store.close();
  const audit = fileStorage(dataDir, 'audit');
  const old = rechain((await audit.lines('gw-old')).map(bodyOf), 'gw-old', EMPTY_HEAD);
  await audit.replace('gw-old', old);
  const auditHead = headOf(old[old.length - 1]!);
  localWitness(dataDir, 'audit', 'gw-old').write([checkpointSigner(dataDir).sign('gw-old', auditHead.seq, auditHead.hash)]);
  return dataDir;
}

async function sealLegacy(dataDir: string, ...extra: string[]): Promise<{ status: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/audit.ts', 'seal-legacy', ...extra], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const status = await new Promise<number | null>((r) => child.on('exit', r));
  return { status, out };
}

async function amrGrants(dataDir: string): Promise<number> {
  const grants = await openGrantStore({ dataDir, redisUrl: null, redisPrefix: '', log: () => undefined });
  try {
    return [...(await grants.snapshot()).grants.values()].filter((g) => g.consumer === 'amr').length;
  } finally {
    await grants.close();
  }
}

describe('npm run audit -- seal-legacy: adopting a log written before seals existed', () => {
  it('seals a legacy ledger that verifies against its witness: its grants apply, verify passes, and a forged event appended later is still caught', async () => {
    const dataDir = await legacyLedger();
    expect(await amrGrants(dataDir)).toBe(0);
    expect((await verifyLedger({ dataDir, redisUrl: null })).ok).toBe(false);
    expect((await verifyAuditLog({ dataDir, redisUrl: null, redisPrefix: '' })).ok).toBe(false);

    const run = await sealLegacy(dataDir, '--by', 'ops-anna');
    expect(run.out).toMatch(/sealed ledger chain authority: records 1\.\.2 .* adopted by ops-anna/);
    expect(run.status).toBe(0);

    expect(await amrGrants(dataDir)).toBe(1);
    expect(await verifyLedger({ dataDir, redisUrl: null })).toMatchObject({ ok: true, records: 3 });
    expect(await verifyAuditLog({ dataDir, redisUrl: null, redisPrefix: '' })).toMatchObject({ ok: true, records: 2 });
    const shown = await auditReader({ dataDir, redisUrl: null, redisPrefix: '' }, () => undefined)({}, { first: 10 });
    expect(shown.records.map((r) => [r.requestId, r.sub])).toEqual([['req-1', 'officer-1'], [expect.stringMatching(/^seal-legacy-/), 'ops-anna']]);

    const storage = fileStorage(dataDir, LEDGER_LOG);
    const lines = await storage.lines(LEDGER_CHAIN);
    expect(JSON.parse(lines[2]!)).toMatchObject({ type: 'log.legacy-sealed', actor: { sub: 'ops-anna', agency: 'itd' }, data: { heads: [{ log: 'audit', chain: 'gw-old', seq: 1 }, { log: 'ledger', chain: LEDGER_CHAIN, seq: 2 }] } });
    await storage.append(LEDGER_CHAIN, rechain([{ ...bodyOf(lines[1]!), actor: { sub: 'head-9', agency: 'eeb' } }], LEDGER_CHAIN, headOf(lines[2]!)));
    const v = await verifyLedger({ dataDir, redisUrl: null });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ seq: 4, why: expect.stringMatching(/^forged/) as unknown });
  });

  it('refuses a legacy ledger that does not verify against its old witness, and seals nothing', async () => {
    const dataDir = await legacyLedger();
    const storage = fileStorage(dataDir, LEDGER_LOG);
    const lines = await storage.lines(LEDGER_CHAIN);
    await storage.replace(LEDGER_CHAIN, [lines[0]!, lines[1]!.replace('"eeb.emissions"', '"psb.criminal-records"')]);

    const run = await sealLegacy(dataDir, '--by', 'ops-anna');
    expect(run.status).toBe(1);
    expect(run.out).toMatch(/refused: ledger chain authority does not verify against its local witness at seq 2/);
    expect(await storage.lines(LEDGER_CHAIN)).toHaveLength(2);
    expect(await amrGrants(dataDir)).toBe(0);
  });
});
