import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { auditLogReader, readAuditRecords } from '../../ledger/audit-reader.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { until } from '../reliability/processes.ts';
import { createDatabase, type TestDatabase } from './database.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ENT = '91445202MA4W3K7PX2';
const QUERY = `{ enterprise(uscc: "${ENT}") { name taxpayerStatus taxCreditGrade } }`;

/** The pids of this process's children started for `instance` as its background process (from /proc, as `ps` would). */
function backgroundPids(instance: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (ppid === process.pid && args.some((a) => a.endsWith('background/main.ts')) && args.includes(instance)) pids.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

async function archived(db: TestDatabase): Promise<number> {
  try {
    return Number((await db.pool().query<{ n: string }>('SELECT count(*) AS n FROM access_records')).rows[0]!.n);
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return 0;
    throw e;
  }
}

interface BackgroundHealth {
  readonly background?: { process: string; restarts: number; archive?: { role: string; chains: { chain: string; shipped: number }[] } };
}

async function health(ex: Exchange): Promise<BackgroundHealth> {
  // As the authority's auditor: an anonymous caller sees only the status.
  const res = await fetch(ex.url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${ex.token('itd', ['auditor'])}` } });
  return (await res.json()) as BackgroundHealth;
}

describe('the archive shipper in a process of its own', () => {
  it('archives what the gateway logs, keeps every request answered while its process is killed, and is restarted', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const instance = `gw-bg-${process.pid}`;
    const ex = await startExchange({ env: { ARCHIVE_URL: db.url(), INSTANCE_ID: instance } });
    let closed = false;
    cleanups.push(() => (closed ? undefined : ex.close()));
    const audit = auditLogReader({ dataDir: ex.config.dataDir, redisUrl: null, redisPrefix: '' });
    cleanups.push(() => audit.close());
    const tax = { agency: 'tax', purpose: 'tax-collection' };

    // The shipper is not in the gateway's process: it runs as a child of it.
    await until(async () => backgroundPids(instance).length === 1, 'the background process started');
    const [first] = backgroundPids(instance);
    for (let i = 0; i < 5; i++) expect((await ex.query(QUERY, tax)).status).toBe(200);
    const logged = (await readAuditRecords(audit)).length;
    expect(logged).toBeGreaterThan(0);
    await until(async () => (await archived(db)) === logged, 'the logged records archived', 400);
    // /health hears of it from the background process a moment later.
    await until(async () => (await health(ex)).background?.archive?.chains.some((c) => c.chain === instance && c.shipped === logged) === true, 'the shipped seq on /health');
    expect((await health(ex)).background).toMatchObject({ process: 'running', restarts: 0, archive: { role: 'shipping' } });

    // Requests under way while the shipper's process is killed: every one is answered.
    let loading = true;
    const statuses: number[] = [];
    const client = async (): Promise<void> => {
      while (loading) statuses.push((await ex.query(QUERY, tax)).status);
    };
    const clients = [client(), client()];
    await until(async () => statuses.length > 5, 'requests under way');
    process.kill(first!, 'SIGKILL');
    await until(async () => ex.logLines.some((l) => /^warn background: the archive and backup process exited \(SIGKILL\); restarting it in \d+ ms$/.test(l)), 'the death reported in the gateway log');
    await until(async () => backgroundPids(instance).some((p) => p !== first), 'a new background process', 400);
    await until(async () => (await health(ex)).background?.process === 'running', 'the new process running', 400);
    const during = statuses.length;
    await until(async () => statuses.length > during + 5, 'requests answered after the restart', 400);
    loading = false;
    await Promise.all(clients);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await health(ex)).background).toMatchObject({ process: 'running', restarts: 1 });

    // The new process continues from the archive's head: everything logged arrives, once.
    const all = (await readAuditRecords(audit)).length;
    await until(async () => (await archived(db)) === all, 'every logged record archived after the restart', 400);
    const dup = await db.pool().query<{ n: string }>('SELECT count(*) AS n FROM (SELECT instance, seq FROM access_records GROUP BY instance, seq HAVING count(*) > 1) d');
    expect(Number(dup.rows[0]!.n)).toBe(0);

    // Closing the gateway ends its background process.
    closed = true;
    await ex.close();
    expect(backgroundPids(instance)).toEqual([]);
  }, 90_000);
});
