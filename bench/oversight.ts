import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { seededAccess } from '../ledger/archive/seed.ts';
import { AccessWatch } from '../subgraphs/exchange/oversight/access-watch.ts';
import { UsageCounts, type UsageDimension } from '../subgraphs/exchange/oversight/usage.ts';

export interface QueryLatency {
  readonly what: string;
  readonly rows: number;
  readonly p50Ms: number;
  readonly maxMs: number;
}

export interface OversightBench {
  /** Access records counted (statistics and findings). */
  readonly records: number;
  readonly ingestMicrosPerRecord: number;
  readonly cells: number;
  /** Heap in use after a full garbage collection, with the counts and tallies of every record. */
  readonly heapMiB: number;
  readonly queries: readonly QueryLatency[];
}

const SHAPES = 4096;
const YEAR_START = Date.parse('2025-01-01T00:00:00+08:00');
const YEAR_MS = 365 * 86_400_000;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * `total` access records of one year, generated in process and counted as the follower counts them
 * (statistics and the access watch), then each question timed. The records take the shapes of the
 * archive's seeded history (agencies, datasets, purposes, decisions), each with its own time and
 * request; one object is reused, so generation costs little beside the counting.
 */
function statistics(total: number): OversightBench {
  const shapes = Array.from({ length: SHAPES }, (_, i) => seededAccess(i, { total: SHAPES }));
  const counts = new UsageCounts();
  const watch = new AccessWatch();
  const step = YEAR_MS / total;
  const r = { ...shapes[0]! };
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const s = shapes[i % SHAPES]!;
    r.ts = new Date(YEAR_START + Math.floor(i * step)).toISOString();
    r.requestId = `b${Math.floor(i / 3)}`;
    r.agency = s.agency;
    r.provider = s.provider;
    r.dataset = s.dataset;
    r.purpose = s.purpose;
    r.decision = s.decision;
    r.reason = s.reason;
    counts.add(r);
    watch.add('bench-1', i + 1, r);
  }
  const ingestMicrosPerRecord = ((performance.now() - started) * 1000) / total;
  // What the counts and tallies hold on to, not the garbage of making the records.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const heapMiB = process.memoryUsage().heapUsed / 1_048_576;
  const time = (what: string, ask: () => number): QueryLatency => {
    const ms: number[] = [];
    let rows = 0;
    for (let k = 0; k < 15; k++) {
      const t = performance.now();
      rows = ask();
      ms.push(performance.now() - t);
    }
    return { what, rows, p50Ms: median(ms), maxMs: Math.max(...ms) };
  };
  const q = (from: string, to: string, groupBy: UsageDimension[], agency: string | null) => () => counts.rows({ from, to, groupBy, agency }).length;
  const queries = [
    time('one quarter by provider, consumer, dataset, purpose (the quarterly report)', q('2025-04-01', '2025-06-30', ['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE'], null)),
    time('the year by quarter and dataset', q('2025-01-01', '2025-12-31', ['QUARTER', 'DATASET'], null)),
    time('one agency (hrss), one quarter, by consumer', q('2025-04-01', '2025-06-30', ['CONSUMER'], 'hrss')),
    time('violation findings from the access watch', () => watch.findings(() => undefined).length),
  ];
  return { records: total, ingestMicrosPerRecord, cells: counts.size, heapMiB, queries };
}

/** The statistics over `records` generated access records (default 10 million). */
export function runOversightBench(opts: { records?: number } = {}): OversightBench {
  return statistics(opts.records ?? 10_000_000);
}

export function printOversightBench(b: OversightBench): void {
  console.log(`\noversight: ${b.records.toLocaleString('en')} access records counted at ${b.ingestMicrosPerRecord.toFixed(2)} \u00b5s each into ${b.cells.toLocaleString('en')} day counts; heap after GC ${b.heapMiB.toFixed(0)} MiB`);
  console.log('| question | rows | p50 ms | max ms |');
  console.log('|---|---:|---:|---:|');
  for (const q of b.queries) console.log(`| ${q.what} | ${q.rows} | ${q.p50Ms.toFixed(1)} | ${q.maxMs.toFixed(1)} |`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { records: { type: 'string', default: '10000000' } } });
  printOversightBench(runOversightBench({ records: Number(values.records) }));
}
