import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it } from 'vitest';
import { auditLogReader, readAuditRecords } from '../../ledger/audit-reader.ts';
import { ledgerReader } from '../../ledger/ledger.ts';
import type { LogReader } from '../../ledger/log/log.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { SUBGRAPHS } from '../../subgraphs/registry.ts';
import { startSubgraphServer } from '../../subgraphs/kit/server.ts';
import { ROOT } from '../helpers/root.ts';
import { freePort, startNode, until, type Child } from '../reliability/processes.ts';
import { createDatabase, PG_PORT, type TestDatabase } from './database.ts';
import { startRelay } from '../helpers/relay.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ENT = '91445202MA4W3K7PX2';

async function logLines(reader: LogReader): Promise<string[]> {
  const out: string[] = [];
  for (const chain of await reader.chains()) {
    for (let after = 0; ; ) {
      const batch = await reader.read(chain, after, 10_000);
      if (batch.length === 0) break;
      out.push(...batch.map((r) => r.line));
      after = batch[batch.length - 1]!.seq;
    }
  }
  return out;
}

/** Rows whose prev is not the archived hash of the seq before, or whose seq does not follow it; and chains not starting at 1. */
async function discontinuities(db: TestDatabase, table: string): Promise<number> {
  const r = await db.pool().query<{ n: string }>(`
    SELECT count(*) AS n FROM (
      SELECT seq, prev, lag(seq) OVER w AS seq_before, lag(hash) OVER w AS hash_before, row_number() OVER w AS k
      FROM ${table} WINDOW w AS (PARTITION BY instance ORDER BY seq)) x
    WHERE (k = 1 AND seq <> 1) OR (k > 1 AND (seq <> seq_before + 1 OR prev <> hash_before))`);
  return Number(r.rows[0]!.n);
}

/** Rows archived so far; 0 before the shipper has created the tables. */
async function count(db: TestDatabase, table: string): Promise<number> {
  try {
    return Number((await db.pool().query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return 0;
    throw e;
  }
}

describe('shipping under load through a gateway crash and a PostgreSQL outage', () => {
  it('leaves an archive equal to the log, every chain continuous, and answers requests while PostgreSQL is away', async () => {
    const db = await createDatabase();
    cleanups.push(() => db.drop());
    const relay = await startRelay(PG_PORT);
    cleanups.push(() => relay.close());
    const tmp = mkdtempSync(path.join(tmpdir(), 'archive-crash-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const secret = randomBytes(32).toString('hex');
    const token = jwt.sign({ agency: 'tax', roles: [] }, secret, { algorithm: 'HS256', issuer: 'exchange', audience: 'exchange-gateway', subject: 'tax-tester', expiresIn: 600 });
    const subEnv = { dataDir: path.join(tmp, 'subgraphs'), redisUrl: null, redisPrefix: 'exchange:', supergraphPath: path.join(ROOT, 'schema/supergraph.graphql') };
    const urls: Record<string, string> = {};
    for (const info of SUBGRAPHS) {
      const s = await startSubgraphServer(await loadSubgraph(info.name, subEnv), { host: '127.0.0.1', port: 0, gatewayPublicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
      cleanups.push(() => s.close());
      urls[`SUBGRAPH_URL_${info.name.toUpperCase()}`] = s.url;
    }
    const dataDir = path.join(tmp, 'gateway');
    const port = await freePort();
    const gatewayEnv = {
      ...urls, DATA_DIR: dataDir, INSTANCE_ID: 'gw-crash', PORT: String(port), REDIS_URL: '', JWT_SECRET: secret,
      POLICY_DIR: path.join(ROOT, 'policies'), SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'),
      GATEWAY_SIGNING_KEY: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ARCHIVE_URL: db.url(relay.port),
    };
    let gateway: Child = await startNode('bin/gateway.ts', [], gatewayEnv, /gateway at http/);
    cleanups.push(() => gateway.stop());

    // Load: four clients in a loop until told to stop; answers are counted by phase.
    let phase = 'up';
    let loading = true;
    const answered = new Map<string, number>();
    const client = async (): Promise<void> => {
      while (loading) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: `{ enterprise(uscc: "${ENT}") { name taxpayerStatus taxCreditGrade } }` }) });
          await res.text();
          if (res.status === 200) answered.set(phase, (answered.get(phase) ?? 0) + 1);
        } catch {
          await new Promise((r) => setTimeout(r, 20)); // the gateway is down: try again
        }
      }
    };
    const clients = Array.from({ length: 4 }, () => client());
    const audit = auditLogReader({ dataDir, redisUrl: null, redisPrefix: '' });
    cleanups.push(() => audit.close());

    await until(async () => (await count(db, 'access_records')) > 100, 'records archived under load', 400);
    await relay.cut();
    phase = 'postgres away';
    const archivedAtCut = await count(db, "access_records");
    // Killed only once the shipper has found PostgreSQL gone and said so: on a fast machine the
    // 300 records can be logged before its next write.
    const outage = /archive: PostgreSQL unavailable \(.+\); the log keeps every record/;
    await until(async () => (await readAuditRecords(audit)).length > archivedAtCut + 300 && (answered.get(phase) ?? 0) > 50 && outage.test(gateway.log()), 'requests answered and the outage reported while PostgreSQL is away', 400);
    gateway.process.kill('SIGKILL');
    await new Promise<void>((resolve) => gateway.process.once('exit', () => resolve()));
    await relay.restore();
    phase = 'restarted';
    gateway = await startNode('bin/gateway.ts', [], gatewayEnv, /gateway at http/);
    await until(async () => (answered.get(phase) ?? 0) > 50, 'requests answered after the restart', 400);
    loading = false;
    await Promise.all(clients);

    const logged = await logLines(audit);
    await until(async () => (await count(db, 'access_records')) >= logged.length, 'the archive caught up with the log', 400);
    const archived = (await db.pool().query<{ line: string }>('SELECT line FROM access_records ORDER BY instance, seq')).rows.map((r) => r.line);
    expect(archived).toEqual(logged);
    expect(await discontinuities(db, 'access_records')).toBe(0);
    // The statistics' daily counts went in with their records: every counted record counted once.
    const daily = await db.pool().query<{ counted: string; records: string }>(`SELECT (SELECT coalesce(sum(allowed + denied), 0) FROM access_daily) AS counted, (SELECT count(*) FROM access_records WHERE dataset IS NOT NULL) AS records`);
    expect(Number(daily.rows[0]!.counted)).toBe(Number(daily.rows[0]!.records));
    expect(Number(daily.rows[0]!.records)).toBeGreaterThan(0);
    const ledger = ledgerReader({ dataDir, redisUrl: null });
    cleanups.push(() => ledger.close());
    const ledgerLines = await logLines(ledger);
    await until(async () => (await count(db, 'ledger_events')) >= ledgerLines.length, 'the ledger archived', 400);
    expect((await db.pool().query<{ line: string }>('SELECT line FROM ledger_events ORDER BY instance, seq')).rows.map((r) => r.line)).toEqual(ledgerLines);
    expect(await discontinuities(db, 'ledger_events')).toBe(0);
  }, 180_000);
});
