import { analyze, percentile, seededCount, seedHistory } from '../cli/archive-measure.ts';
import { openArchivePool } from '../ledger/archive/pool.ts';
import { ensureSchema } from '../ledger/archive/schema.ts';
import type { ProposalTerms } from '../ledger/events.ts';
import { referenceSubgraphs } from '../subgraphs/compose.ts';
import { checkProposal } from '../subgraphs/exchange/registry/check.ts';
import { archiveReads } from '../subgraphs/exchange/registry/reads.ts';

/**
 * npm run bench -- registry [--records 10000000] [--samples 200]: the check of a subgraph proposal
 * against an archive of N access records. The archive (its own database, `registry_bench`, or
 * ARCHIVE_URL) is seeded once with the archive bench's history, through the shipper's COPY path,
 * so its per-field daily counts are those the shipper keeps; later runs reuse it. The proposal
 * removes amr's `Enterprise.name`, a field the history reads throughout, so every check asks the
 * archive for its readers over the 90 days before the end of the history. Printed: the whole
 * check's p50 / p99 (composition included) and the readers question's alone.
 */
export interface RegistryBench {
  readonly records: number;
  readonly samples: number;
  readonly check: { readonly p50: number; readonly p99: number };
  readonly readers: { readonly p50: number; readonly p99: number; readonly agencies: number; readonly reads: number };
}

/** The seeded history spans 2025 (archive-measure's default start, 365 days); the check runs at its end. */
const NOW = new Date('2025-12-31T12:00:00.000Z');
const WINDOW = { from: '2025-10-03', to: '2025-12-31' };

export async function registryBench(opts: { records: number; samples: number; url?: string }): Promise<RegistryBench> {
  const url = opts.url ?? 'postgres://postgres@127.0.0.1:5432/registry_bench';
  const dbName = new URL(url).pathname.slice(1);
  const admin = openArchivePool(Object.assign(new URL(url), { pathname: '/postgres' }).toString(), 1);
  try {
    if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount === 0) await admin.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.end();
  }
  const pool = openArchivePool(url, 6);
  try {
    await ensureSchema(pool);
    const have = await seededCount(pool);
    if (have > opts.records) throw new Error(`${dbName} already holds ${have} seeded records, more than --records ${opts.records}: use another database (ARCHIVE_URL)`);
    if (have < opts.records) {
      console.log(`seeding ${opts.records - have} record(s) (of ${opts.records}) into ${dbName}; this is paid once`);
      const t = performance.now();
      const n = await seedHistory(pool, { total: opts.records, chains: 4, spanDays: 365, entities: Math.max(1, Math.floor(opts.records / 200)) });
      console.log(`seeded ${n} record(s) at ${Math.round(n / ((performance.now() - t) / 1000))} records/s`);
      await analyze(url);
    }
  } finally {
    await pool.end();
  }

  const amr = referenceSubgraphs().find((s) => s.name === 'amr')!;
  const proposal: ProposalTerms = {
    subgraph: { name: 'amr', member: 'amr', url: amr.url, sdl: amr.sdl.replace(/\n {2}"企业名称"\n {2}name: String @dataset\([^)]*\)/, '') },
    catalog: {},
    note: 'bench',
  };
  const reads = archiveReads(url);
  const deps = { grants: { snapshot: () => Promise.resolve({ grants: new Map() }) }, reads, members: { isActive: () => true }, now: () => NOW };
  const checks: number[] = [];
  const questions: number[] = [];
  let agencies = 0;
  let total = 0;
  try {
    // One check first, outside the figures: it composes the reference once and opens the connections.
    const first = await checkProposal({ base: null, proposal, proposer: 'amr' }, deps);
    if (first.breakingChanges[0]?.coordinate !== 'Enterprise.name') throw new Error('the bench proposal should remove Enterprise.name');
    for (let i = 0; i < opts.samples; i++) {
      const t = performance.now();
      const r = await checkProposal({ base: null, proposal, proposer: 'amr' }, deps);
      checks.push(performance.now() - t);
      const q = performance.now();
      const readers = await reads.readers(['Enterprise.name'], WINDOW);
      questions.push(performance.now() - q);
      agencies = r.breakingChanges[0]!.readers.length;
      total = readers.reduce((n, x) => n + x.reads, 0);
    }
  } finally {
    await reads.close();
  }
  checks.sort((a, b) => a - b);
  questions.sort((a, b) => a - b);
  return {
    records: opts.records,
    samples: opts.samples,
    check: { p50: percentile(checks, 50), p99: percentile(checks, 99) },
    readers: { p50: percentile(questions, 50), p99: percentile(questions, 99), agencies, reads: total },
  };
}

export function printRegistryBench(b: RegistryBench): void {
  console.log(`\nthe check of a proposal removing Enterprise.name, archive of ${b.records.toLocaleString('en')} records, ${b.samples} checks`);
  console.log('| figure | p50 | p99 |');
  console.log('|---|---:|---:|');
  console.log(`| whole check (composition, sources, guardrails, breaking changes, catalog diff) | ${b.check.p50.toFixed(1)} ms | ${b.check.p99.toFixed(1)} ms |`);
  console.log(`| readers of one field over 90 days from the archive (${b.readers.agencies} agencies, ${b.readers.reads.toLocaleString('en')} reads) | ${b.readers.p50.toFixed(2)} ms | ${b.readers.p99.toFixed(2)} ms |`);
}
