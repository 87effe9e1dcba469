import agencies from '../../../schema/agencies.json' with { type: 'json' };
import type { EvaluationRow } from '../../../ledger/events.ts';
import { cstDate } from '../workdays.ts';
import { timeliness } from '../workflow/state.ts';
import { findingsOfAll } from './findings.ts';
import type { OversightState } from './state.ts';

/** How the result follows from the figures; published with every evaluation so it can be checked. */
export const EVALUATION_METHOD =
  'score = 100 − 5 × answers late − 10 × deadlines missed − 10 × refusals overturned − 10 × complaints upheld − 15 × violation cases − 5 × inconsistency reports unanswered, at least 0; GOOD from 90, FAIR from 70, else POOR (R-37)';

const inYear = (year: number, at: string): boolean => cstDate(new Date(at)).startsWith(`${year}-`);

/** Every agency's figures for a year, from the ledger's fold, as of `now`. */
export function evaluate(s: OversightState, year: number, now: Date): EvaluationRow[] {
  const findings = findingsOfAll(s.requests.values(), now);
  return Object.keys(agencies).sort().map((agency): EvaluationRow => {
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
    };
    const score = Math.max(
      0,
      100 -
        5 * figures.answeredLate -
        10 * figures.missed -
        10 * figures.refusalsOverturned -
        10 * figures.complaintsUpheld -
        15 * figures.violationCases -
        5 * (figures.inconsistencyReports - figures.inconsistencyAnswered),
    );
    return { ...figures, score, result: score >= 90 ? 'GOOD' : score >= 70 ? 'FAIR' : 'POOR' };
  });
}
