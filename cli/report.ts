import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { configOrExit, die } from '../bin/run.ts';
import { quarterlyReport, usageCsv } from '../subgraphs/exchange/oversight/quarterly.ts';

/** npm run report -- quarterly --year Y --quarter Q [--out DIR]: the authority's quarterly statistics, as JSON and CSV. */
const USAGE = 'usage: npm run report -- quarterly --year YYYY --quarter 1-4 [--out DIR]';

let args: { positionals: string[]; values: { year?: string; quarter?: string; out?: string } };
try {
  args = parseArgs({ allowPositionals: true, options: { year: { type: 'string' }, quarter: { type: 'string' }, out: { type: 'string' } } });
} catch (e) {
  die(`report: ${(e as Error).message}. ${USAGE}`);
}
if (args.positionals[0] !== 'quarterly') die(`report: unknown command "${args.positionals[0] ?? ''}". ${USAGE}`);
const year = Number(args.values.year);
const quarter = Number(args.values.quarter);
if (!Number.isInteger(year) || year < 2000 || year > 2100) die(`report: --year must be a year, got "${args.values.year ?? ''}". ${USAGE}`);
if (!Number.isInteger(quarter) || quarter < 1 || quarter > 4) die(`report: --quarter must be 1 to 4, got "${args.values.quarter ?? ''}". ${USAGE}`);

const config = configOrExit();
const report = await quarterlyReport(config, year, quarter);
const out = args.values.out ?? path.join(config.dataDir, 'reports');
mkdirSync(out, { recursive: true });
const base = path.join(out, `quarterly-${year}-Q${quarter}`);
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${base}.csv`, usageCsv(report));
console.log(`report: ${report.totals.allowed} reads allowed, ${report.totals.denied} denied in ${year}-Q${quarter}; demands ${report.demands.recorded} recorded, ${report.demands.matched} matched, ${report.demands.assigned} assigned, ${report.demands.open} open`);
console.log(`report: wrote ${base}.json and ${base}.csv`);
