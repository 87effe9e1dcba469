import { csvCell, readOversightState, type StorageAt } from './read-state.ts';
import { quarterSpan, type UsageRow } from './usage.ts';
import { usageSource } from './usage-archive.ts';

/** The authority's quarterly report: reads by provider, consumer, dataset and purpose, and the demand register's needs met and unmet. */
export interface QuarterlyReport {
  readonly year: number;
  readonly quarter: number;
  readonly from: string;
  readonly to: string;
  readonly usage: readonly UsageRow[];
  readonly totals: { readonly allowed: number; readonly denied: number };
  /** `willCatalog` and `refused`: requests for uncatalogued data their holder had answered so. */
  readonly demands: { readonly recorded: number; readonly matched: number; readonly assigned: number; readonly willCatalog: number; readonly refused: number; readonly open: number };
}

export async function quarterlyReport(at: StorageAt, year: number, quarter: number): Promise<QuarterlyReport> {
  const { from, to } = quarterSpan(year, quarter);
  const usage = await usageSource(at);
  let rows: UsageRow[];
  try {
    rows = await usage.rows({ from, to, groupBy: ['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE'], agency: null });
  } finally {
    await usage.close();
  }
  const state = await readOversightState(at, () => null);
  // Needs recorded up to the quarter's end, in the state they had reached by then.
  const end = Date.parse(`${to}T23:59:59.999+08:00`);
  const needs = [...state.demands.values()].filter((d) => Date.parse(d.recordedAt) <= end);
  const decided = (kind: 'MATCHED' | 'ASSIGNED') => needs.filter((d) => d.outcome.kind === kind && Date.parse(d.outcome.at) <= end).length;
  const matched = decided('MATCHED');
  const assigned = decided('ASSIGNED');
  const answered = (willCatalog: boolean) => needs.filter((d) => d.answer !== null && d.answer.willCatalog === willCatalog && Date.parse(d.answer.at) <= end).length;
  const willCatalog = answered(true);
  const refused = answered(false);
  return {
    year,
    quarter,
    from,
    to,
    usage: rows,
    totals: { allowed: rows.reduce((n, r) => n + r.allowed, 0), denied: rows.reduce((n, r) => n + r.denied, 0) },
    demands: { recorded: needs.length, matched, assigned, willCatalog, refused, open: needs.length - matched - assigned - willCatalog - refused },
  };
}

/** The usage rows as CSV, one header line. */
export function usageCsv(r: QuarterlyReport): string {
  const lines = [['quarter', 'provider', 'consumer', 'dataset', 'purpose', 'allowed', 'denied'].join(',')];
  for (const u of r.usage) lines.push([`${r.year}-Q${r.quarter}`, u.provider, u.consumer, u.dataset, u.purpose, u.allowed, u.denied].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}
