import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../gateway/audit/store.ts';
import { verifyAuditLog } from '../../gateway/audit/verify.ts';
import { chainBatch } from '../../ledger/log/chain.ts';
import { logKey } from '../../ledger/log/log-key.ts';
import { checkpointSigner } from '../../ledger/log/witness.ts';
import { startWitness, type RunningWitness } from '../../ledger/witness/service.ts';
import { accessEntry, bodyOf, fileStorage, headOf, localWitness, rechain, redisStorage, type Storage } from './attack.ts';

const REDIS = 'redis://127.0.0.1:6379';
const CHAIN = 'gw-1';
const RECORDS = 50;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


type Kind = 'file' | 'redis';

interface Setup {
  readonly dataDir: string;
  readonly at: { dataDir: string; redisUrl: string | null; redisPrefix: string };
  readonly storage: Storage;
  readonly witness: RunningWitness;
}

/** An access log of RECORDS records, each its own group commit, whose head the off-host witness has countersigned. */
async function loggedAndWitnessed(kind: Kind): Promise<Setup> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-attack-'));
  const dataDir = path.join(tmp, 'data');
  const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  const witness = await startWitness({ dataDir: path.join(tmp, 'witness-host'), keyPem: null, host: '127.0.0.1', port: 0 });
  const storage = kind === 'file' ? fileStorage(dataDir, 'audit') : redisStorage(REDIS, prefix, 'audit');
  cleanups.push(async () => {
    await witness.close();
    await storage.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  const at = { dataDir, redisUrl: kind === 'redis' ? REDIS : null, redisPrefix: prefix };
  const store = await openAuditStore({ ...at, instance: CHAIN, witnessUrls: [witness.url] });
  for (let i = 1; i <= RECORDS; i++) await store.append([accessEntry(i)]);
  await store.close();
  return { dataDir, at, storage, witness };
}

describe.each<Kind>(['file', 'redis'])('attacks on the access log by an insider with access to its storage (%s store)', (kind) => {
  it('reports a correctly chained record appended without the log key as forged, naming chain and seq', async () => {
    const s = await loggedAndWitnessed(kind);
    const lines = await s.storage.lines(CHAIN);
    const blame = { ...bodyOf(lines[lines.length - 1]!), agency: 'tax', coordinate: 'Person.criminalRecord', dataset: 'psb.criminal-records', provider: 'psb', decision: 'ALLOW' };
    await s.storage.append(CHAIN, rechain([blame], CHAIN, headOf(lines[lines.length - 1]!)));

    const v = await verifyAuditLog({ ...s.at, witnessUrls: [s.witness.url] });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: CHAIN, seq: RECORDS + 1, why: expect.stringMatching(/^forged: records 51\.\.51 carry no signature of the log key/) });
  });

  it('detects the log cut to 37 records together with its local witness, from the off-host witness', async () => {
    const s = await loggedAndWitnessed(kind);
    await s.storage.replace(CHAIN, (await s.storage.lines(CHAIN)).slice(0, 37));
    const local = localWitness(s.dataDir, 'audit', CHAIN);
    local.write(local.read().filter((c) => c.seq <= 37));

    expect(await verifyAuditLog({ ...s.at, witnessUrls: [] })).toMatchObject({ ok: true, notes: [expect.stringMatching(/^no off-host witness is configured/)] });
    const v = await verifyAuditLog({ ...s.at, witnessUrls: [s.witness.url] });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: CHAIN, seq: 38, why: expect.stringMatching(/^records 38\.\.50 are missing: witness .* countersigned seq 50/) });
  });

  it('detects a whole chain deleted together with its local witness', async () => {
    const s = await loggedAndWitnessed(kind);
    await s.storage.remove(CHAIN);
    localWitness(s.dataDir, 'audit', CHAIN).remove();

    const v = await verifyAuditLog({ ...s.at, witnessUrls: [s.witness.url] });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: CHAIN, seq: 1, why: expect.stringMatching(/^the chain is missing: witness .* countersigned its head at seq 50/) });
  });

  it('reports a record edited, re-chained and re-signed with the checkpoint key of DATA_DIR/keys as forged', async () => {
    const s = await loggedAndWitnessed(kind);
    const lines = await s.storage.lines(CHAIN);
    const bodies = lines.slice(19).map(bodyOf);
    bodies[0] = { ...bodies[0], agency: 'tax' };
    const rewritten = [...lines.slice(0, 19), ...rechain(bodies, CHAIN, headOf(lines[18]!))];
    await s.storage.replace(CHAIN, rewritten);
    // The key that lies in DATA_DIR/keys re-signs the local checkpoints.
    const signer = checkpointSigner(s.dataDir);
    const local = localWitness(s.dataDir, 'audit', CHAIN);
    local.write(local.read().map((c) => signer.sign(CHAIN, c.seq, headOf(rewritten[c.seq - 1]!).hash)));

    const v = await verifyAuditLog({ ...s.at, witnessUrls: [] });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: CHAIN, seq: 20, why: expect.stringMatching(/^forged/) });
  });

  it('detects a rewrite below the countersigned head even when re-sealed with the stolen log key', async () => {
    const s = await loggedAndWitnessed(kind);
    const lines = await s.storage.lines(CHAIN);
    const bodies = lines.slice(19).map(bodyOf);
    bodies[0] = { ...bodies[0], agency: 'tax' };
    const stolen = logKey(s.dataDir);
    const resealed = chainBatch([bodies.map((b) => JSON.stringify(b))], CHAIN, headOf(lines[18]!), { log: 'audit', sign: stolen.sign }).lines;
    const rewritten = [...lines.slice(0, 19), ...resealed];
    await s.storage.replace(CHAIN, rewritten);
    const signer = checkpointSigner(s.dataDir);
    const local = localWitness(s.dataDir, 'audit', CHAIN);
    local.write(local.read().map((c) => signer.sign(CHAIN, c.seq, headOf(rewritten[c.seq - 1]!).hash)));

    // Without a witness the stolen key wins; the off-host witness's countersigned head does not match.
    expect((await verifyAuditLog({ ...s.at, witnessUrls: [] })).ok).toBe(true);
    const v = await verifyAuditLog({ ...s.at, witnessUrls: [s.witness.url] });
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ chain: CHAIN, why: expect.stringMatching(/^differs from the head witness .* countersigned at .* \(the log was rewritten below a countersigned head\)$/) });
    expect(v.firstBad!.seq).toBeGreaterThanOrEqual(20);
  });

  it('verifies an untouched log against the off-host witness', async () => {
    const s = await loggedAndWitnessed(kind);
    expect(await verifyAuditLog({ ...s.at, witnessUrls: [s.witness.url] })).toMatchObject({ ok: true, records: RECORDS, chains: 1, notes: [] });
  });
});
