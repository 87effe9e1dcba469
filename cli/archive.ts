import type { Pool } from 'pg';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { openArchivePool, SHIP_CONNECTIONS } from '../ledger/archive/pool.ts';
import { ensurePartitions, ensureSchema, monthOf } from '../ledger/archive/schema.ts';
import { archivedLogReaders } from '../ledger/archive/start.ts';
import { archiveStatus } from '../ledger/archive/status.ts';
import { applyRetention, type PartitionVerdict } from '../ledger/archive/retention.ts';
import { openLedger } from '../ledger/ledger.ts';
import { logPublicKey } from '../ledger/log/witness.ts';
import { analyze, entityHistory, ingestionRate, quarterStatistics, seededCount, seedHistory } from './archive-measure.ts';
import { exitQuietlyOnClosedPipe } from './pipe.ts';
import { commandArgs, type Options, otherCommand } from './args.ts';

/** npm run archive -- status | seed | measure | retain: the PostgreSQL archive of the access log and the ledger (docs/archive.md). */
const HELP: Readonly<Record<string, string>> = {
  status: `npm run archive -- status [--json]
  Per chain: the last archived seq, when, and how many records of the log are not archived yet
  (lag); then every month partition with its rows and size.`,
  seed: `npm run archive -- seed --records N [--chains K] [--days D] [--entities E]
  Writes a deterministic access history of N records (K chains named seed-1..K, spread over D days
  from 2025-01-01, over E entity keys) straight into the archive, for measuring it; prints the
  ingestion rate. Seed an empty archive: the times of the history depend on N.`,
  retain: `npm run archive -- retain [--years N] [--dry-run]
  Detaches and drops each month partition older than N years (default ARCHIVE_RETENTION_YEARS)
  once a backup in BACKUP_DIR or OFFSITE_DIR that verifies holds every record in it; any other is
  kept, with the reason. Exit 1 when a partition past retention had to be kept.`,
  measure: `npm run archive -- measure [--samples S] [--ingest N]
  Against a seeded archive: access history of one entity key (p50, p99 over S keys) and one
  quarter's statistics for one agency; with --ingest, the rate at which the shipper's write path
  takes N more records (written to a scratch month, then removed).`,
};
const USAGE = `usage:\n${Object.values(HELP).map((h) => `  ${h.split('\n')[0]}`).join('\n')}`;

function fail(message: string, code = 2): never {
  console.error(`archive: ${message}`);
  process.exit(code);
}

function config(): Config & { archiveUrl: string } {
  let c: Config;
  try {
    c = loadConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : (e as Error).message, 1);
  }
  if (c.archiveUrl === null) fail('ARCHIVE_URL is not set: give the archive database, e.g. ARCHIVE_URL=postgres://postgres@127.0.0.1:5432/exchange_archive', 1);
  return c as Config & { archiveUrl: string };
}

function args(command: string, rest: string[], options: Options): Record<string, string | boolean | undefined> {
  return commandArgs(rest, options, HELP[command] ?? '', (m) => fail(m));
}

function positive(name: string, v: string | boolean | undefined, fallback: number | null): number {
  if (v === undefined && fallback !== null) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < 1) fail(`--${name} must be a positive integer, got "${String(v ?? '')}"`);
  return n;
}

async function reach(pool: Pool): Promise<void> {
  try {
    await ensureSchema(pool);
  } catch (e) {
    fail(`cannot use the archive (${(e as { code?: string }).code ?? (e as Error).message}); is PostgreSQL running, and is ARCHIVE_URL right?`, 1);
  }
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;

async function status(rest: string[]): Promise<void> {
  const a = args('status', rest, { json: { type: 'boolean' } });
  const c = config();
  const pool = openArchivePool(c.archiveUrl, 2);
  const readers = archivedLogReaders(c);
  try {
    await reach(pool);
    const s = await archiveStatus(pool, readers);
    if (a['json'] === true) {
      console.log(JSON.stringify(s, null, 2));
      return;
    }
    console.log('chain                          shipped seq  lag        last shipped              problem');
    for (const ch of s.chains) console.log(`${`${ch.log}/${ch.chain}`.padEnd(30)} ${String(ch.shipped).padStart(11)}  ${(ch.lag === null ? 'not in log' : String(ch.lag)).padEnd(10)} ${ch.shippedAt.padEnd(25)} ${ch.problem ?? ''}`.trimEnd());
    console.log('\npartition                       rows (estimate)        size');
    for (const p of s.partitions) console.log(`${p.partition.padEnd(34)} ${String(p.rows).padStart(10)}  ${mb(p.bytes).padStart(10)}`);
    console.log(`${s.partitions.length} partition(s), ${mb(s.partitions.reduce((n, p) => n + p.bytes, 0))} in all`);
  } finally {
    for (const r of readers) await r.close();
    await pool.end();
  }
}

async function retain(rest: string[]): Promise<void> {
  const a = args('retain', rest, { years: { type: 'string' }, 'dry-run': { type: 'boolean' } });
  const c = config();
  const years = a['years'] !== undefined ? positive('years', a['years'], null) : c.archiveRetentionYears;
  if (years === null) fail('no retention configured: set ARCHIVE_RETENTION_YEARS or pass --years N', 1);
  const pool = openArchivePool(c.archiveUrl, 2);
  try {
    await reach(pool);
    const ledger = await openLedger({ dataDir: c.dataDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix, logSigningKey: c.logSigningKey, witnessUrls: c.witnessUrls });
    let verdicts: PartitionVerdict[];
    try {
      verdicts = await applyRetention(pool, {
        years,
        backupDirs: [c.backup.dir, c.backup.offsiteDir],
        trustedPublicKeyPem: logPublicKey(c.dataDir),
        backupKey: c.backup.key,
        dryRun: a['dry-run'] === true,
        record: async (drop) => {
          await ledger.record({ type: 'archive.partition.dropped', data: drop }, null);
        },
      });
    } finally {
      await ledger.close();
    }
    for (const v of verdicts) console.log(`${v.partition}: ${v.dropped ? 'detached and dropped: ' : a['dry-run'] === true ? '' : 'kept: '}${v.reason}`);
    const kept = verdicts.filter((v) => !v.dropped && a['dry-run'] !== true);
    console.log(`${verdicts.filter((v) => v.dropped).length} partition(s) dropped, ${kept.length} past ${years} year(s) kept`);
    if (kept.length > 0) process.exitCode = 1;
  } finally {
    await pool.end();
  }
}

async function seed(rest: string[]): Promise<void> {
  const a = args('seed', rest, { records: { type: 'string' }, chains: { type: 'string' }, days: { type: 'string' }, entities: { type: 'string' } });
  const total = positive('records', a['records'], null);
  const chains = positive('chains', a['chains'], 4);
  const spanDays = positive('days', a['days'], 365);
  const entities = positive('entities', a['entities'], Math.max(1, Math.floor(total / 200)));
  const c = config();
  const pool = openArchivePool(c.archiveUrl, Math.min(chains, SHIP_CONNECTIONS) + 1);
  try {
    await reach(pool);
    const months = new Set<string>();
    for (let d = 0; d <= spanDays; d += 10) months.add(monthOf(new Date(Date.parse('2025-01-01T00:00:00Z') + d * 86_400_000).toISOString()));
    await ensurePartitions(pool, 'access_records', months);
    const started = performance.now();
    const written = await seedHistory(pool, { total, chains, spanDays, entities });
    const seconds = (performance.now() - started) / 1000;
    console.log(`seeded ${written} record(s) in ${chains} chain(s) in ${seconds.toFixed(1)} s: ${Math.round(written / Math.max(seconds, 0.001))} records/s`);
    // Statistics for the planner over millions of rows take longer than the pool's query timeout.
    await analyze(c.archiveUrl);
  } finally {
    await pool.end();
  }
}

async function measure(rest: string[]): Promise<void> {
  const a = args('measure', rest, { samples: { type: 'string' }, ingest: { type: 'string' } });
  const samples = positive('samples', a['samples'], 200);
  const ingest = a['ingest'] === undefined ? 0 : positive('ingest', a['ingest'], null);
  const c = config();
  const pool = openArchivePool(c.archiveUrl, 5);
  try {
    await reach(pool);
    const n = await seededCount(pool);
    if (n === 0) fail('no seeded history: run npm run archive -- seed --records N first', 1);
    const e = await entityHistory(pool, { samples, entities: Math.max(1, Math.floor(n / 200)) });
    const q = await quarterStatistics(pool, { from: '2025-04-01', to: '2025-06-30', agency: 'tax' });
    console.log(`archive of ${n} seeded record(s)`);
    console.log(`entity history (${samples} keys, ${e.recordsPerKey} records each on average): p50 ${e.p50.toFixed(1)} ms, p99 ${e.p99.toFixed(1)} ms`);
    console.log(`statistics of 2025 Q2 for tax (provider or consumer; ${q.rows} daily counts summing ${q.reads} reads): ${q.ms.toFixed(0)} ms`);
    if (ingest > 0) {
      const r = await ingestionRate(c.archiveUrl, { records: ingest, chains: 4 });
      console.log(`ingestion through the shipper's write path (${ingest} records, 4 chains in parallel): ${r.perSecond} records/s`);
    }
  } finally {
    await pool.end();
  }
}

exitQuietlyOnClosedPipe();
const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'status':
    await status(rest);
    break;
  case 'seed':
    await seed(rest);
    break;
  case 'measure':
    await measure(rest);
    break;
  case 'retain':
    await retain(rest);
    break;
  case undefined:
  default:
    otherCommand(command, USAGE, fail);
}
