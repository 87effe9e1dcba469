import type { EvaluationRow } from '../../../ledger/events.ts';
import { referenceMembers } from '../../../ledger/members.ts';
import { DEFAULT_EXCHANGE_REGION } from '../../../common/config-values.ts';
import { freshness, type Frequency } from '../catalog/freshness.ts';
import { cstDate } from '../workdays.ts';
import { timeliness } from '../workflow/state.ts';
import { findingsOfAll } from './findings.ts';
import type { OversightState } from './state.ts';

/** How the result follows from the figures; published with every evaluation so it can be checked. */
export const EVALUATION_METHOD =
  'score = 100 − 5 × answers late − 10 × deadlines missed − 10 × refusals overturned − 10 × complaints upheld − 15 × violation cases − 5 × inconsistency reports unanswered − 5 × datasets overdue (R-17, at the end of the year or now), at least 0; GOOD from 90, FAIR from 70, else POOR (R-37)';

/** A catalogued dataset as R-17 sees it: who provides it, how often, and the update the catalog records. */
export interface CataloguedDataset {
  readonly provider: string;
  readonly frequency: Frequency;
  readonly lastUpdate: string | null;
}

/** The datasets of the catalog in force at an instant (ms): the version published last by then. */
export type CatalogAt = (time: number) => ReadonlyMap<string, CataloguedDataset>;

/**
 * How many of the agency's datasets are overdue at `asOf`: the last update reported by
 * then (the catalog's record, or a later report on the ledger) is older than the dataset's
 * declared frequency allows, and at the least it was not updated in the quarter by the 10th day of
 * its first month. A dataset never reported is not counted as overdue.
 */
function datasetsOverdue(s: OversightState, datasets: ReadonlyMap<string, CataloguedDataset>, agency: string, asOf: number): number {
  let n = 0;
  for (const [dataset, m] of datasets) {
    if (m.provider !== agency) continue;
    const times = [...(s.updates.get(dataset) ?? []), ...(m.lastUpdate === null ? [] : [m.lastUpdate])].map((t) => Date.parse(t)).filter((t) => t <= asOf);
    const last = times.length === 0 ? null : Math.max(...times);
    if (freshness(m.frequency, last, asOf) === 'OVERDUE') n++;
  }
  return n;
}

const inYear = (year: number, at: string): boolean => cstDate(new Date(at)).startsWith(`${year}-`);

/**
 * The agencies evaluated for a year: every member registered by its end (or by now) and not
 * retired before it began (the reference members count from the start). A member retired during
 * the year is still evaluated for that year.
 * A ledger with no member step (written before members were recorded) evaluates the reference members.
 */
function evaluated(s: OversightState, yearStart: number, asOf: number): string[] {
  if (s.members.size === 0) return referenceMembers(DEFAULT_EXCHANGE_REGION).map((m) => m.code).sort();
  return [...s.members.values()]
    // The reference members (seeded, no actor) were members before the ledger began.
    .filter((m) => m.history[0]?.actor === null || Date.parse(m.registeredAt) <= asOf)
    .filter((m) => m.status !== 'RETIRED' || m.history.some((e) => e.type === 'member.retired' && Date.parse(e.at) >= yearStart))
    .map((m) => m.code)
    .sort();
}

/**
 * Every agency's figures for a year, from the ledger's fold, as of `now`; the datasets counted are
 * those of the catalog in force at the end of the year (or now), so a dataset a later version
 * removed still counts for the years it was catalogued.
 */
export function evaluate(s: OversightState, catalogAt: CatalogAt, year: number, now: Date): EvaluationRow[] {
  const findings = findingsOfAll(s.requests.values(), now);
  const yearStart = Date.parse(`${year}-01-01T00:00:00+08:00`);
  const asOf = Math.min(now.getTime(), Date.parse(`${year + 1}-01-01T00:00:00+08:00`) - 1);
  const datasets = catalogAt(asOf);
  return evaluated(s, yearStart, asOf).map((agency): EvaluationRow => {
    const received = [...s.requests.values()].filter((r) => r.provider === agency && inYear(year, r.receivedAt));
    const count = (t: string) => received.filter((r) => timeliness(r, now) === t).length;
    const reports = [...s.inconsistencies.values()].filter((r) => r.provider === agency && inYear(year, r.reportedAt));
    const figures = {
      agency,
      requestsReceived: received.length,
      answeredOnTime: count('ON_TIME'),
      answeredLate: count('LATE'),
      missed: count('MISSED'),
      refusals: received.filter((r) => r.history.some((e) => e.type === 'request.refused')).length,
      refusalsOverturned: findings.filter((f) => f.kind === 'REFUSAL_OVERTURNED' && f.agency === agency && inYear(year, f.at)).length,
      inconsistencyReports: reports.length,
      inconsistencyAnswered: reports.filter((r) => r.answered).length,
      complaintsUpheld: [...s.complaints.values()].filter((c) => c.against === agency && c.decision?.upheld === true && inYear(year, c.decision.at)).length,
      violationCases: [...s.cases.values()].filter((k) => k.agency === agency && inYear(year, k.openedAt)).length,
      datasetsOverdue: asOf < yearStart ? 0 : datasetsOverdue(s, datasets, agency, asOf),
    };
    const score = Math.max(
      0,
      100 -
        5 * figures.answeredLate -
        10 * figures.missed -
        10 * figures.refusalsOverturned -
        10 * figures.complaintsUpheld -
        15 * figures.violationCases -
        5 * (figures.inconsistencyReports - figures.inconsistencyAnswered) -
        5 * figures.datasetsOverdue,
    );
    return { ...figures, score, result: score >= 90 ? 'GOOD' : score >= 70 ? 'FAIR' : 'POOR' };
  });
}
