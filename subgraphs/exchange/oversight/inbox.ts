import { endOfDay, workingDaysLeft } from '../workdays.ts';
import { AUTHORITY } from './scope.ts';
import type { OversightState } from './state.ts';

/** How close a deadline must be to call for attention: 3 working days. */
export const DUE_SOON_WORKING_DAYS = 3;
/** Decisions received stay in the inbox this long after they were made. */
const DECISIONS_KEPT_MS = 30 * 86_400_000;

export type InboxKind =
  | 'REQUEST_TO_ANSWER'
  | 'COMPLAINT_TO_ANSWER'
  | 'ORDER_TO_CORRECT'
  | 'DATASET_TO_CATALOG'
  | 'DECISION_RECEIVED'
  | 'ESCALATION_TO_DECIDE'
  | 'COMPLAINT_TO_DECIDE'
  | 'DEMAND_TO_MATCH'
  | 'DEMAND_TO_ANSWER';

export interface InboxItem {
  readonly kind: InboxKind;
  /** The id of the request, complaint, case or demand. */
  readonly ref: string;
  readonly summary: string;
  /** The other agency concerned. */
  readonly from: string | null;
  readonly at: string;
  readonly dueBy: string | null;
  readonly workingDaysLeft: number | null;
  readonly dueSoon: boolean;
  readonly overdue: boolean;
}

function item(now: Date, x: Omit<InboxItem, 'workingDaysLeft' | 'dueSoon' | 'overdue'>): InboxItem {
  if (x.dueBy === null) return { ...x, workingDaysLeft: null, dueSoon: false, overdue: false };
  const left = workingDaysLeft(now, x.dueBy);
  return { ...x, workingDaysLeft: left, dueSoon: left <= DUE_SOON_WORKING_DAYS, overdue: now.getTime() > endOfDay(x.dueBy).getTime() };
}

/** What an agency has to act on, or has just been told, most urgent first. */
export function inboxOf(s: OversightState, agency: string, now: Date): InboxItem[] {
  const items: InboxItem[] = [];
  const recent = (at: string): boolean => now.getTime() - Date.parse(at) <= DECISIONS_KEPT_MS;
  for (const r of s.requests.values()) {
    if (r.provider === agency && r.phase === 'PENDING') {
      items.push(item(now, { kind: 'REQUEST_TO_ANSWER', ref: r.id, summary: `${r.consumer} asks for ${r.datasets.join(', ')} for ${r.purposes.join(', ')}`, from: r.consumer, at: r.receivedAt, dueBy: r.dueBy }));
    }
    // The answer to the agency's own request: the provider's, or the authority's on escalation.
    const answer = r.consumer === agency ? [...r.history].reverse().find((e) => e.type === 'request.approved' || e.type === 'request.refused' || e.type === 'request.decided') : undefined;
    if (answer !== undefined && recent(answer.at)) {
      const what =
        answer.type === 'request.decided'
          ? `the authority ${answer.data.approve ? 'approved' : 'refused'} your escalated request to ${r.provider}: ${answer.data.reasons}`
          : answer.type === 'request.refused'
            ? `${r.provider} refused your request for ${r.datasets.join(', ')}: ${answer.data.reasons}`
            : `${r.provider} approved your request for ${r.datasets.join(', ')}`;
      items.push(item(now, { kind: 'DECISION_RECEIVED', ref: r.id, summary: what, from: answer.type === 'request.decided' ? AUTHORITY : r.provider, at: answer.at, dueBy: null }));
    }
    if (agency === AUTHORITY && r.phase === 'ESCALATED') {
      const escalated = r.history.find((e) => e.type === 'request.escalated');
      items.push(item(now, { kind: 'ESCALATION_TO_DECIDE', ref: r.id, summary: `${r.consumer} escalated its request to ${r.provider}`, from: r.consumer, at: escalated?.at ?? r.receivedAt, dueBy: null }));
    }
  }
  for (const c of s.complaints.values()) {
    if (c.against === agency && c.answer === null && c.decision === null) {
      items.push(item(now, { kind: 'COMPLAINT_TO_ANSWER', ref: c.id, summary: `${c.complainant} complains of ${c.ground}: ${c.description}`, from: c.complainant, at: c.filedAt, dueBy: c.answerDueBy }));
    }
    if (agency === AUTHORITY && c.decision === null) {
      items.push(item(now, { kind: 'COMPLAINT_TO_DECIDE', ref: c.id, summary: `${c.complainant} against ${c.against} (${c.ground})${c.answer === null ? ', not yet answered' : ', answered'}`, from: c.complainant, at: c.filedAt, dueBy: c.decisionDueBy }));
    }
    if (c.decision !== null && (c.complainant === agency || c.against === agency) && recent(c.decision.at)) {
      items.push(item(now, { kind: 'DECISION_RECEIVED', ref: c.id, summary: `complaint ${c.decision.upheld ? 'upheld' : 'dismissed'}: ${c.decision.reasons}`, from: AUTHORITY, at: c.decision.at, dueBy: null }));
    }
  }
  for (const k of s.cases.values()) {
    if (k.agency !== agency) continue;
    if (k.closed === null) {
      for (const o of k.orders) items.push(item(now, { kind: 'ORDER_TO_CORRECT', ref: k.id, summary: o.correction, from: AUTHORITY, at: o.at, dueBy: o.dueBy }));
    }
    for (const n of k.notices) {
      if (recent(n.at)) items.push(item(now, { kind: 'DECISION_RECEIVED', ref: k.id, summary: `notice of criticism: ${n.notice}`, from: AUTHORITY, at: n.at, dueBy: null }));
    }
  }
  for (const d of s.demands.values()) {
    if (d.provider !== null) {
      if (d.provider === agency && d.answer === null) {
        items.push(item(now, { kind: 'DEMAND_TO_ANSWER', ref: d.id, summary: `${d.agency} asks for data no catalogued dataset holds: ${d.data} (purpose ${d.purpose})`, from: d.agency, at: d.recordedAt, dueBy: d.dueBy }));
      }
      if (d.provider === agency && d.answer?.willCatalog === true && d.answer.proposal === null) {
        items.push(item(now, { kind: 'DATASET_TO_CATALOG', ref: d.id, summary: `catalog the data ${d.agency} asked for, as you answered: ${d.data}`, from: d.agency, at: d.answer.at, dueBy: null }));
      }
      if (d.agency === agency && d.answer !== null && recent(d.answer.at)) {
        const what = d.answer.willCatalog ? `${d.provider} will catalog ${d.data}: ${d.answer.text}` : `${d.provider} refused your request for ${d.data}: ${d.answer.text}`;
        items.push(item(now, { kind: 'DECISION_RECEIVED', ref: d.id, summary: what, from: d.provider, at: d.answer.at, dueBy: null }));
      }
      continue;
    }
    if (d.outcome.kind === 'OPEN' && agency === AUTHORITY) {
      items.push(item(now, { kind: 'DEMAND_TO_MATCH', ref: d.id, summary: `${d.agency} needs: ${d.data}`, from: d.agency, at: d.recordedAt, dueBy: null }));
    }
    if (d.outcome.kind === 'ASSIGNED' && d.outcome.holder === agency) {
      items.push(item(now, { kind: 'DATASET_TO_CATALOG', ref: d.id, summary: `catalog the data ${d.agency} needs: ${d.data} (${d.outcome.note})`, from: d.agency, at: d.outcome.at, dueBy: null }));
    }
    if (d.outcome.kind === 'MATCHED' && d.agency === agency && recent(d.outcome.at)) {
      items.push(item(now, { kind: 'DECISION_RECEIVED', ref: d.id, summary: `your need is met by ${d.outcome.datasets.join(', ')}: file a sharing request to ${d.outcome.provider}`, from: AUTHORITY, at: d.outcome.at, dueBy: null }));
    }
  }
  return items.sort((a, b) => (a.dueBy ?? '9999').localeCompare(b.dueBy ?? '9999') || a.at.localeCompare(b.at));
}
