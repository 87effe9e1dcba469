import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openGrantStore } from '../../ledger/grants.ts';
import { LEDGER_CHAIN, LEDGER_LOG, openLedger, verifyLedger } from '../../ledger/ledger.ts';
import { startWitness } from '../../ledger/witness/service.ts';
import { fileStorage, headOf, localWitness, rechain, redisStorage, type Storage } from './attack.ts';

const REDIS = 'redis://127.0.0.1:6379';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Kind = 'file' | 'redis';

function place(kind: Kind): { tmp: string; dataDir: string; redisUrl: string | null; redisPrefix: string; storage: Storage } {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-forgery-'));
  const dataDir = path.join(tmp, 'data');
  const redisPrefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  const storage = kind === 'file' ? fileStorage(dataDir, LEDGER_LOG) : redisStorage(REDIS, redisPrefix, LEDGER_LOG);
  cleanups.push(async () => {
    await storage.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  return { tmp, dataDir, redisUrl: kind === 'redis' ? REDIS : null, redisPrefix, storage };
}

const EMISSIONS = { consumer: 'amr', provider: 'eeb', datasets: ['eeb.emissions'], purposes: ['market-supervision'], legalBasis: 'R-11', justification: 'forged', validUntil: '2030-12-31', receivedAt: '2026-06-01T00:00:00.000Z' };

describe.each<Kind>(['file', 'redis'])('forged ledger events (%s store)', (kind) => {
  it('never folds a correctly chained request.filed by amr and request.approved attributed to eeb appended without the log key, and verify names them', async () => {
    const at = place(kind);
    const ledger = await openLedger({ ...at, sink: { info() {}, warn() {} } });
    await ledger.record({ type: 'request.filed', data: { ...EMISSIONS, consumer: 'tax', justification: 'a real one' } }, { sub: 'officer-1', agency: 'tax' });
    await ledger.close();

    const lines = await at.storage.lines(LEDGER_CHAIN);
    const head = headOf(lines[lines.length - 1]!);
    const at0 = '2026-06-02T00:00:00.000Z';
    await at.storage.append(
      LEDGER_CHAIN,
      rechain(
        [
          { at: at0, type: 'request.filed', actor: { sub: 'officer-9', agency: 'amr' }, data: EMISSIONS },
          { at: at0, type: 'request.approved', actor: { sub: 'head-1', agency: 'eeb' }, data: { id: 'sr-forged', conditions: null, grants: [{ consumer: 'amr', dataset: 'eeb.emissions', purposes: ['market-supervision'], validFrom: '2026-01-01', validUntil: '2030-12-31' }] } },
        ],
        LEDGER_CHAIN,
        head,
      ),
    );

    const warnings: string[] = [];
    const grants = await openGrantStore({ dataDir: at.dataDir, redisUrl: at.redisUrl, redisPrefix: at.redisPrefix, log: (l) => warnings.push(l) });
    cleanups.push(() => grants.close());
    const state = await grants.snapshot();
    expect([...state.grants.values()].filter((g) => g.consumer === 'amr')).toEqual([]);

    const v = await verifyLedger(at);
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: LEDGER_CHAIN, seq: head.seq + 1, why: expect.stringMatching(/^forged: records 2\.\.3 carry no signature of the log key/) });
  });

  it('applies what the log key wrote after forged events, and reports the forged ones as not applied', async () => {
    const at = place(kind);
    const warnings: string[] = [];
    const ledger = await openLedger({ ...at, sink: { info() {}, warn: (l) => warnings.push(l) } });
    cleanups.push(() => ledger.close());
    await ledger.record({ type: 'request.filed', data: EMISSIONS }, null);
    const lines = await at.storage.lines(LEDGER_CHAIN);
    const forged = { at: '2026-06-02T00:00:00.000Z', type: 'grant.issued', actor: null, data: { grant: { id: 'g-forged', consumer: 'amr', dataset: 'eeb.emissions', purposes: ['market-supervision'], validFrom: '2026-01-01', validUntil: '2030-12-31' } } };
    await at.storage.append(LEDGER_CHAIN, rechain([forged], LEDGER_CHAIN, headOf(lines[lines.length - 1]!)));
    // The next legitimate writer chains on whatever the store holds; its seal covers only its own group.
    const grants = await openGrantStore({ dataDir: at.dataDir, redisUrl: at.redisUrl, redisPrefix: at.redisPrefix, ledger });
    await grants.apply({ op: 'grant', grant: { id: 'g-real', consumer: 'tax', dataset: 'eeb.emissions', purposes: ['tax-audit'], validFrom: '2026-01-01', validUntil: '2030-12-31' } });
    const ids = [...(await grants.snapshot()).grants.keys()];
    expect(ids).toEqual(['g-real']);
    expect(warnings).toContain('ledger: events 2..2 of chain authority are not applied: forged: records 2..2 carry no signature of the log key (appended by someone without it)');
  });

  it('detects the ledger deleted together with its local witness, from the off-host witness', async () => {
    const at = place(kind);
    const witness = await startWitness({ dataDir: path.join(at.tmp, 'witness-host'), keyPem: null, host: '127.0.0.1', port: 0 });
    cleanups.push(() => witness.close());
    const ledger = await openLedger({ ...at, witnessUrls: [witness.url], sink: { info() {}, warn() {} } });
    for (let i = 0; i < 5; i++) await ledger.record({ type: 'request.filed', data: EMISSIONS }, null);
    await ledger.close();
    await at.storage.remove(LEDGER_CHAIN);
    localWitness(at.dataDir, LEDGER_LOG, LEDGER_CHAIN).remove();

    expect(await verifyLedger({ ...at, witnessUrls: [] })).toMatchObject({ ok: true, records: 0 });
    const v = await verifyLedger({ ...at, witnessUrls: [witness.url] });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: LEDGER_CHAIN, seq: 1, why: expect.stringMatching(/^the chain is missing: witness .* countersigned its head at seq 5/) });
  });
});
