import type { EvaluationRow } from '../../../ledger/events.ts';
import { applyRegistryEvent, emptyRegistryState } from '../../../ledger/registry.ts';
import { catalogs, referenceCatalog } from '../catalog/versions.ts';
import { oversightCatalog } from './core.ts';
import { evaluate, EVALUATION_METHOD } from './evaluation.ts';
import { csvCell, readOversightState, type StorageAt } from './read-state.ts';

/** The annual evaluation as a report: the published version in force, if any, and the draft as the ledger stands. */
export interface EvaluationReport {
  readonly year: number;
  readonly method: string;
  /** When the draft was worked out. */
  readonly asOf: string;
  readonly published: { readonly id: string; readonly publishedAt: string; readonly corrects: string | null; readonly note: string; readonly method: string; readonly rows: readonly EvaluationRow[] } | null;
  /** Every version published for the year, oldest first, with the one that corrects it. */
  readonly versions: readonly { readonly id: string; readonly publishedAt: string; readonly corrects: string | null; readonly correctedBy: string | null }[];
  readonly draft: readonly EvaluationRow[];
}

export async function evaluationReport(at: StorageAt & { supergraphPath: string }, year: number, now = new Date()): Promise<EvaluationReport> {
  // The catalog follows the versions published on the ledger, read in the same pass.
  const registry = emptyRegistryState();
  const catalog = oversightCatalog(catalogs(referenceCatalog(at.supergraphPath), () => registry.versions));
  const state = await readOversightState(at, catalog.providerOf, (e) => applyRegistryEvent(registry, e));
  const versions = [...state.evaluations.values()].filter((v) => v.year === year);
  const current = versions.find((v) => v.correctedBy === null);
  return {
    year,
    method: EVALUATION_METHOD,
    asOf: now.toISOString(),
    published: current === undefined ? null : { id: current.id, publishedAt: current.publishedAt, corrects: current.corrects, note: current.note, method: current.method, rows: current.rows },
    versions: versions.map((v) => ({ id: v.id, publishedAt: v.publishedAt, corrects: v.corrects, correctedBy: v.correctedBy })),
    draft: evaluate(state, catalog.at, year, now),
  };
}

const COLUMNS = ['agency', 'requestsReceived', 'answeredOnTime', 'answeredLate', 'missed', 'refusals', 'refusalsOverturned', 'inconsistencyReports', 'inconsistencyAnswered', 'complaintsUpheld', 'violationCases', 'datasetsOverdue', 'score', 'result'] as const;

/** One line per agency: the published version's rows (version = its id), then the draft's (version = draft). */
export function evaluationCsv(r: EvaluationReport): string {
  const lines = [['year', 'version', ...COLUMNS].join(',')];
  const put = (version: string, rows: readonly EvaluationRow[]) => {
    for (const row of rows) lines.push([r.year, version, ...COLUMNS.map((c) => row[c])].map(csvCell).join(','));
  };
  if (r.published !== null) put(r.published.id, r.published.rows);
  put('draft', r.draft);
  return `${lines.join('\n')}\n`;
}
