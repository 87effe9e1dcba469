import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainDir } from '../../ledger/log/file-log.ts';
import { startWitness, type RunningWitness } from '../../ledger/witness/service.ts';
import { logKey } from '../../ledger/log/log-key.ts';
import { witnessedLog } from '../../ledger/witness/client.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { until } from '../helpers/wait.ts';
import { ROOT } from '../helpers/root.ts';
import { localWitness } from './attack.ts';

// Asynchronous: the witness answers from this very process while the CLI runs.
async function verify(env: Record<string, string>): Promise<{ status: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/audit.ts', 'verify'], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const status = await new Promise<number | null>((r) => child.on('exit', r));
  return { status, lines: out.trim().split('\n') };
}

describe('npm run audit -- verify with an off-host witness', () => {
  let tmp: string;
  let witness: RunningWitness;
  let dataDir: string;
  let instance: string;
  let ex: Exchange;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'exchange-verify-cli-'));
    witness = await startWitness({ dataDir: path.join(tmp, 'witness-host'), keyPem: null, host: '127.0.0.1', port: 0 });
    ex = await startExchange({ env: { WITNESS_URLS: witness.url, INSTANCE_ID: 'gw-cli' } });
    dataDir = ex.config.dataDir;
    instance = ex.gateway.instance;
    await ex.query('{ enterprise(uscc: "91445202MA4W3K7PX2") { name } }', { agency: 'amr' });
    // The gateway sends its heads to the witness once a second: wait until it has countersigned both logs.
    const origin = logKey(dataDir).origin;
    await until(async () => (await witnessedLog(witness.url, origin, 'audit')).heads.length === 1 && (await witnessedLog(witness.url, origin, 'ledger')).heads.length === 1);
  });
  afterAll(async () => {
    await ex.close();
    await witness.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('says that no off-host witness is configured when WITNESS_URLS is unset', async () => {
    const r = await verify({ DATA_DIR: dataDir });
    expect(r.status).toBe(0);
    expect(r.lines[0]).toMatch(/^note: no off-host witness is configured \(WITNESS_URLS\)/);
    expect(r.lines.filter((l) => l.startsWith('note:'))).toHaveLength(1);
  });

  it('exits 0 when every countersigned head is in the log', async () => {
    const r = await verify({ DATA_DIR: dataDir, WITNESS_URLS: witness.url });
    expect(r.status, r.lines.join('\n')).toBe(0);
    expect(r.lines).toEqual([expect.stringMatching(/^audit log intact: \d+ record\(s\) in 1 chain\(s\)$/), expect.stringMatching(/^ledger intact: \d+ event\(s\) in 1 chain\(s\)$/)]);
  });

  it('exits 1 when the witness cannot be reached, rather than saying intact', async () => {
    const r = await verify({ DATA_DIR: dataDir, WITNESS_URLS: 'http://127.0.0.1:9' });
    expect(r.status).toBe(1);
    expect(r.lines[0]).toMatch(/^audit log BROKEN at witness http:\/\/127\.0\.0\.1:9 \(chain \*\): the off-host witness cannot be checked/);
  });

  it('exits 1 naming the chain when a whole chain and its local witness are deleted', async () => {
    rmSync(chainDir(dataDir, 'audit', instance), { recursive: true, force: true });
    localWitness(dataDir, 'audit', instance).remove();
    const r = await verify({ DATA_DIR: dataDir, WITNESS_URLS: witness.url });
    expect(r.status).toBe(1);
    expect(r.lines[0]).toMatch(new RegExp(`^audit log BROKEN at end of audit chain ${instance} \\(chain ${instance}, seq 1\\): the chain is missing: witness .* countersigned its head at seq \\d+`));
  });
});
