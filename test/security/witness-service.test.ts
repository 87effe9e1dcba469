import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logKey } from '../../ledger/log/log-key.ts';
import { submitCheckpoint, witnessedLog, WitnessRefusedError } from '../../ledger/witness/client.ts';
import { startWitness, type RunningWitness } from '../../ledger/witness/service.ts';
import { checkpointPayload } from '../../ledger/witness/statement.ts';
import { ROOT } from '../helpers/root.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'exchange-witness-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function witnessAt(dataDir: string): Promise<RunningWitness> {
  const w = await startWitness({ dataDir, keyPem: null, host: '127.0.0.1', port: 0 });
  cleanups.push(() => w.close());
  return w;
}

const pem = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const key = logKey('unused', pem());
const h = (c: string): string => c.repeat(64);

function checkpoint(chain: string, seq: number, hash: string, signer = key) {
  return { publicKey: signer.publicKeyPem, log: 'audit', chain, seq, hash, sig: signer.sign(checkpointPayload('audit', chain, seq, hash)) };
}

describe('the witness service', () => {
  it('countersigns heads that extend a chain and answers the newest head of every chain', async () => {
    const w = await witnessAt(tmp());
    await submitCheckpoint(w.url, checkpoint('gw-1', 3, h('a')));
    await submitCheckpoint(w.url, checkpoint('gw-1', 9, h('b')));
    await submitCheckpoint(w.url, checkpoint('gw-2', 1, h('c')));
    const seen = await witnessedLog(w.url, key.origin, 'audit');
    expect(seen.heads.map((x) => [x.chain, x.seq]).sort()).toEqual([['gw-1', 9], ['gw-2', 1]]);
    expect(seen.history.get('gw-1')!.map((x) => x.seq)).toEqual([3, 9]);
  });

  it('refuses a rollback and a fork, and keeps what it countersigned across a restart', async () => {
    const dir = tmp();
    let w = await witnessAt(dir);
    await submitCheckpoint(w.url, checkpoint('gw-1', 9, h('b')));
    await w.close();
    w = await witnessAt(dir);
    await expect(submitCheckpoint(w.url, checkpoint('gw-1', 5, h('a')))).rejects.toThrow(new WitnessRefusedError('chain gw-1 of log audit was countersigned at seq 9; seq 5 would roll it back'));
    await expect(submitCheckpoint(w.url, checkpoint('gw-1', 9, h('d')))).rejects.toThrow(new WitnessRefusedError('chain gw-1 of log audit was countersigned at seq 9 with another hash'));
    expect((await submitCheckpoint(w.url, checkpoint('gw-1', 9, h('b')))).seq).toBe(9);
  });

  it('refuses a checkpoint not signed by the key it names', async () => {
    const w = await witnessAt(tmp());
    const forged = { ...checkpoint('gw-1', 2, h('a')), sig: logKey('unused', pem()).sign(checkpointPayload('audit', 'gw-1', 2, h('a'))) };
    await expect(submitCheckpoint(w.url, forged)).rejects.toThrow(new WitnessRefusedError('the checkpoint signature does not verify with publicKey'));
  });

  it('npm run witness refuses a bad WITNESS_PORT with one line naming it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin/witness.ts')], { cwd: ROOT, env: { ...process.env, WITNESS_PORT: 'many', WITNESS_DATA_DIR: tmp() } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(err.trim()).toBe('invalid witness configuration: WITNESS_PORT must be an integer from 0 to 65535, got "many"');
  });
});
