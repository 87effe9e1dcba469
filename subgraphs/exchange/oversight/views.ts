import { workingDaysLeft } from '../workdays.ts';
import type { OversightCore } from './core.ts';
import { demandStatus, type Complaint, type Demand, type ViolationCase } from './state.ts';

/** How complaints, demands and cases are shown: their status and dates spelled out from the fold. */
export function oversightViews({ state, now }: Pick<OversightCore, 'state' | 'now'>) {
  const complaintView = (c: Complaint) => ({
    ...c,
    status: c.decision !== null ? (c.decision.upheld ? 'UPHELD' : 'DISMISSED') : c.answer !== null ? 'ANSWERED' : 'FILED',
    answer: c.answer?.text ?? null,
    answeredAt: c.answer?.at ?? null,
    decisionReasons: c.decision?.reasons ?? null,
    decidedAt: c.decision?.at ?? null,
    answerWorkingDaysLeft: c.answer === null ? workingDaysLeft(now(), c.answerDueBy) : 0,
  });
  const demandView = (d: Demand) => ({
    ...d,
    status: demandStatus(d, now()),
    provider: d.outcome.kind === 'MATCHED' ? d.outcome.provider : d.provider,
    workingDaysLeft: d.dueBy !== null && d.answer === null ? workingDaysLeft(now(), d.dueBy) : null,
    answer: d.answer?.text ?? null,
    willCatalog: d.answer?.willCatalog ?? null,
    answeredAt: d.answer?.at ?? null,
    proposal: d.answer?.proposal ?? null,
    proposalStatus: d.answer?.proposal ? (state.proposals.get(d.answer.proposal)?.status ?? null) : null,
    datasets: d.outcome.kind === 'MATCHED' ? d.outcome.datasets : [],
    holder: d.outcome.kind === 'ASSIGNED' ? d.outcome.holder : null,
    note: d.outcome.kind === 'OPEN' ? null : d.outcome.note,
    decidedAt: d.outcome.kind === 'OPEN' ? null : d.outcome.at,
  });
  const caseView = (k: ViolationCase) => ({
    ...k,
    status: k.closed === null ? 'OPEN' : 'CLOSED',
    closedAt: k.closed?.at ?? null,
    closingReasons: k.closed?.reasons ?? null,
    suspensions: k.suspensions.flatMap((id) => {
      const s = state.suspensions.get(id);
      return s === undefined ? [] : [{ ...s, liftedAt: s.lifted?.at ?? null, liftReasons: s.lifted?.reasons ?? null }];
    }),
  });
  return { complaintView, demandView, caseView };
}
