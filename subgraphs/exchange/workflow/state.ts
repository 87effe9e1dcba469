import { ids, type Recorded, type RequestTerms } from '../../../ledger/events.ts';
import { addWorkingDays, isOverdue, workingDaysLeft } from '../workdays.ts';

/** the provider answers within 15 working days of receipt. */
export const ANSWER_WORKING_DAYS = 15;

/**
 * A sharing request's life. PENDING until the provider answers; a refusal or a
 * missed deadline may be escalated to the authority, whose coordinator approves or upholds.
 * OVERDUE is not stored: it is PENDING seen after the deadline.
 */
export type Phase = 'PENDING' | 'APPROVED' | 'REFUSED' | 'WITHDRAWN' | 'ESCALATED' | 'APPROVED_ON_ESCALATION' | 'UPHELD';
export type Status = Phase | 'OVERDUE';

export interface SharingRequest extends RequestTerms {
  readonly id: string;
  readonly dueBy: string;
  readonly dueAt: string;
  readonly dueProvisional: boolean;
  readonly phase: Phase;
  /** Conditions of an approval, or the written reasons of a refusal or a coordinator's decision. */
  readonly answer: string | null;
  readonly grantIds: readonly string[];
  readonly history: readonly Recorded[];
}

/** The request steps, each one ledger event type. */
export type Step = 'request.filed' | 'request.approved' | 'request.refused' | 'request.withdrawn' | 'request.escalated' | 'request.decided';

export function statusOf(r: SharingRequest, now: Date): Status {
  return r.phase === 'PENDING' && isOverdue(now, new Date(r.dueAt)) ? 'OVERDUE' : r.phase;
}

export function daysLeft(r: SharingRequest, now: Date): number {
  return r.phase === 'PENDING' ? workingDaysLeft(now, r.dueBy) : 0;
}

/** Why `step` may not happen to `r` now, or null: the transition rules in one place. */
export function refusal(r: SharingRequest, step: Step, now: Date): string | null {
  const status = statusOf(r, now);
  switch (step) {
    case 'request.filed':
      return 'a request is filed once';
    case 'request.approved':
    case 'request.refused':
      return r.phase === 'PENDING' ? null : `request ${r.id} is ${status}; only a pending request can be answered`;
    case 'request.withdrawn':
      return r.phase === 'PENDING' || r.phase === 'REFUSED' ? null : `request ${r.id} is ${status} and can no longer be withdrawn`;
    case 'request.escalated':
      return status === 'REFUSED' || status === 'OVERDUE' ? null : `request ${r.id} is ${status}; only a refused or overdue request can be escalated (R-22)`;
    case 'request.decided':
      return r.phase === 'ESCALATED' ? null : `request ${r.id} is ${status}; only an escalated request is decided by the authority`;
  }
}

/**
 * how the provider kept the deadline on one request. An answer after the deadline is late;
 * a deadline that passed unanswered is missed, whether the consumer then waited, escalated or withdrew.
 */
export type Timeliness = 'ON_TIME' | 'LATE' | 'MISSED' | 'OPEN' | 'WITHDRAWN';

export function timeliness(r: SharingRequest, now: Date): Timeliness {
  const due = Date.parse(r.dueAt);
  const answer = r.history.find((e) => e.type === 'request.approved' || e.type === 'request.refused');
  if (answer !== undefined) return Date.parse(answer.at) <= due ? 'ON_TIME' : 'LATE';
  const ended = r.history.find((e) => e.type === 'request.withdrawn' || e.type === 'request.escalated');
  if ((ended === undefined ? now.getTime() : Date.parse(ended.at)) > due) return 'MISSED';
  return ended === undefined ? 'OPEN' : 'WITHDRAWN';
}

/**
 * Folds one ledger event into the requests; events are folded in ledger order, at start and as
 * any process records them. Request steps move the request; a grant's revocation or expiry joins
 * the history of the request that created the grant.
 */
export function apply(requests: Map<string, SharingRequest>, e: Recorded): void {
  const step = (id: string, change: (r: SharingRequest) => Partial<SharingRequest>): void => {
    const r = requests.get(id);
    if (r !== undefined) requests.set(id, { ...r, ...change(r), history: [...r.history, e] });
  };
  switch (e.type) {
    case 'request.filed': {
      const deadline = addWorkingDays(new Date(e.data.receivedAt), ANSWER_WORKING_DAYS);
      const id = ids.request(e);
      requests.set(id, { ...e.data, id, dueBy: deadline.dueBy, dueAt: deadline.dueAt.toISOString(), dueProvisional: deadline.provisional, phase: 'PENDING', answer: null, grantIds: [], history: [e] });
      return;
    }
    case 'request.approved':
      return step(e.data.id, () => ({ phase: 'APPROVED', answer: e.data.conditions, grantIds: e.data.grants.map((_, i) => ids.grant(e.data.id, i)) }));
    case 'request.refused':
      return step(e.data.id, () => ({ phase: 'REFUSED', answer: e.data.reasons }));
    case 'request.withdrawn':
      return step(e.data.id, () => ({ phase: 'WITHDRAWN' }));
    case 'request.escalated':
      return step(e.data.id, () => ({ phase: 'ESCALATED' }));
    case 'request.decided':
      return step(e.data.id, () => ({ phase: e.data.approve ? 'APPROVED_ON_ESCALATION' : 'UPHELD', answer: e.data.reasons, grantIds: e.data.grants.map((_, i) => ids.grant(e.data.id, i)) }));
    case 'grant.revoked':
    case 'grant.expired':
      if (e.data.requestId !== null) step(e.data.requestId, () => ({}));
      return;
    case 'grant.issued':
    case 'agreement.registered':
    case 'agreement.proposed':
    case 'agreement.countersigned':
    case 'agreement.filed':
    case 'agreement.revoked':
    case 'policy.revision':
    case 'policy.installed':
    case 'suspension.imposed':
    case 'suspension.lifted':
    case 'dataset.updated':
    case 'inconsistency.reported':
    case 'inconsistency.answered':
    case 'totals.confirmed':
    case 'backup.started':
    case 'backup.created':
    case 'backup.failed':
    case 'archive.partition.dropped':
    case 'backup.foreign-restored':
    case 'log.legacy-sealed':
    case 'complaint.filed':
    case 'complaint.answered':
    case 'complaint.decided':
    case 'demand.recorded':
    case 'demand.matched':
    case 'demand.assigned':
    case 'demand.answered':
    case 'case.opened':
    case 'case.ordered':
    case 'case.criticized':
    case 'case.closed':
    case 'evaluation.published':
    case 'disclosure.recorded':
    case 'consent.given':
    case 'member.registered':
    case 'member.changed':
    case 'member.suspended':
    case 'member.reinstated':
    case 'member.retired':
    case 'subgraph.proposed':
    case 'subgraph.refused':
    case 'supergraph.published':
      return;
  }
}
