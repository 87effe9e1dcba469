import type { ExchangeEvent } from '../../../ledger/events.ts';
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

export interface SharingRequest {
  readonly id: string;
  readonly consumer: string;
  readonly provider: string;
  readonly datasets: readonly string[];
  readonly purposes: readonly string[];
  readonly legalBasis: string;
  readonly justification: string;
  readonly validUntil: string;
  readonly receivedAt: string;
  readonly dueBy: string;
  readonly dueAt: string;
  readonly dueProvisional: boolean;
  readonly phase: Phase;
  /** Conditions of an approval, or the written reasons of a refusal or a coordinator's decision. */
  readonly answer: string | null;
  readonly grantIds: readonly string[];
  readonly history: readonly ExchangeEvent[];
}

export type Step =
  | { readonly type: 'request.filed'; readonly request: Omit<SharingRequest, 'phase' | 'answer' | 'grantIds' | 'history' | 'dueBy' | 'dueAt' | 'dueProvisional'> }
  | { readonly type: 'request.approved'; readonly id: string; readonly conditions: string | null; readonly grantIds: readonly string[] }
  | { readonly type: 'request.refused'; readonly id: string; readonly reasons: string }
  | { readonly type: 'request.withdrawn'; readonly id: string }
  | { readonly type: 'request.escalated'; readonly id: string; readonly reasons: string }
  | { readonly type: 'request.decided'; readonly id: string; readonly approve: boolean; readonly reasons: string; readonly grantIds: readonly string[] };

export function statusOf(r: SharingRequest, now: Date): Status {
  return r.phase === 'PENDING' && isOverdue(now, new Date(r.dueAt)) ? 'OVERDUE' : r.phase;
}

export function daysLeft(r: SharingRequest, now: Date): number {
  return r.phase === 'PENDING' ? workingDaysLeft(now, r.dueBy) : 0;
}

/** Why `step` may not happen to `r` now, or null: the transition rules in one place. */
export function refusal(r: SharingRequest, step: Step['type'], now: Date): string | null {
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

/** Grant events that belong to the history of the request that created the grant. */
const GRANT_EVENTS = new Set(['grant.revoked', 'grant.expired']);

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
 * Applies one recorded event; events are folded in order at start and as they are appended.
 * Request steps move the request; a grant's revocation or expiry joins its request's history.
 */
export function apply(requests: Map<string, SharingRequest>, event: ExchangeEvent): void {
  if (GRANT_EVENTS.has(event.type)) {
    const r = requests.get(String(event.data['requestId']));
    if (r !== undefined) requests.set(r.id, { ...r, history: [...r.history, event] });
    return;
  }
  if (!event.type.startsWith('request.')) return;
  const step = event.data as unknown as Step;
  if (step.type === 'request.filed') {
    const deadline = addWorkingDays(new Date(step.request.receivedAt), ANSWER_WORKING_DAYS);
    requests.set(step.request.id, {
      ...step.request,
      dueBy: deadline.dueBy,
      dueAt: deadline.dueAt.toISOString(),
      dueProvisional: deadline.provisional,
      phase: 'PENDING',
      answer: null,
      grantIds: [],
      history: [event],
    });
    return;
  }
  const r = requests.get(step.id);
  if (r === undefined) return;
  const history = [...r.history, event];
  switch (step.type) {
    case 'request.approved':
      requests.set(r.id, { ...r, phase: 'APPROVED', answer: step.conditions, grantIds: step.grantIds, history });
      return;
    case 'request.refused':
      requests.set(r.id, { ...r, phase: 'REFUSED', answer: step.reasons, history });
      return;
    case 'request.withdrawn':
      requests.set(r.id, { ...r, phase: 'WITHDRAWN', history });
      return;
    case 'request.escalated':
      requests.set(r.id, { ...r, phase: 'ESCALATED', history });
      return;
    case 'request.decided':
      requests.set(r.id, { ...r, phase: step.approve ? 'APPROVED_ON_ESCALATION' : 'UPHELD', answer: step.reasons, grantIds: step.grantIds, history });
      return;
  }
}
