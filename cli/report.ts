import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configOrExit } from '../bin/config.ts';
import { die } from '../bin/run.ts';
import { evaluationCsv, evaluationReport } from '../subgraphs/exchange/oversight/annual.ts';
import { quarterlyReport, usageCsv } from '../subgraphs/exchange/oversight/quarterly.ts';
import { commandArgs } from './args.ts';

/** npm run report -- quarterly | evaluation: the authority's reports (R-26, R-37), as JSON and CSV. */
const HELP: Readonly<Record<string, string>> = {
  quarterly: `npm run report -- quarterly --year YYYY --quarter 1-4 [--out DIR]
  Reads allowed and denied by provider, consumer, dataset and purpose in the quarter, and the demand
  register's needs matched, assigned and open (R-26): quarterly-YYYY-QN.json and .csv in DIR
  (default DATA_DIR/reports).`,
  evaluation: `npm run report -- evaluation --year YYYY [--out DIR]
  Every agency's conduct in the year with its score and result (R-37): the version published, if
  any, and the draft as the ledger stands: evaluation-YYYY.json and .csv in DIR (default
  DATA_DIR/reports).`,
};
const usage = (command: string): string => `usage: ${HELP[command]!.split('\n')[0]}`;
const USAGE = `usage: ${Object.values(HELP).map((h) => h.split('\n')[0]).join(' | ')}`;

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || !Object.hasOwn(HELP, command)) die(`report: unknown command "${command ?? ''}". ${USAGE}`);
const values = commandArgs(rest, { year: { type: 'string' }, quarter: { type: 'string' }, out: { type: 'string' } }, HELP[command]!, (m) => die(`report: ${m}`));
const text = (v: string | boolean | undefined): string => (typeof v === 'string' ? v : '');
const year = Number(values['year']);
if (!/^\d{4}$/.test(text(values['year'])) || year < 2000 || year > 2100) die(`report: --year must be a year, got "${text(values['year'])}". ${usage(command)}`);
if (command === 'quarterly' && !/^[1-4]$/.test(text(values['quarter']))) die(`report: --quarter must be 1 to 4, got "${text(values['quarter'])}". ${usage(command)}`);
if (command === 'evaluation' && values['quarter'] !== undefined) die(`report: evaluation takes no --quarter. ${usage(command)}`);

const config = configOrExit();
const out = text(values['out']) || path.join(config.dataDir, 'reports');
mkdirSync(out, { recursive: true });

if (command === 'quarterly') {
  const quarter = Number(values['quarter']);
  const report = await quarterlyReport(config, year, quarter);
  const base = path.join(out, `quarterly-${year}-Q${quarter}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.csv`, usageCsv(report));
  console.log(`report: ${report.totals.allowed} reads allowed, ${report.totals.denied} denied in ${year}-Q${quarter}; demands ${report.demands.recorded} recorded, ${report.demands.matched} matched, ${report.demands.assigned} assigned, ${report.demands.willCatalog} to be catalogued by their holder, ${report.demands.refused} refused, ${report.demands.open} open`);
  console.log(`report: wrote ${base}.json and ${base}.csv`);
} else {
  const report = await evaluationReport(config, year);
  const base = path.join(out, `evaluation-${year}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.csv`, evaluationCsv(report));
  const results = (['GOOD', 'FAIR', 'POOR'] as const).map((r) => `${report.draft.filter((x) => x.result === r).length} ${r}`).join(', ');
  console.log(`report: ${year} evaluation, ${report.published === null ? 'not published yet' : `published as ${report.published.id}`}; draft: ${results}`);
  console.log(`report: wrote ${base}.json and ${base}.csv`);
}
