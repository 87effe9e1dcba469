import type { AgreementRecord as AgreementLife } from '../../../ledger/agreements.ts';
import { grantChanges } from '../../../ledger/grants.ts';
import { applyMember, type Member } from '../../../ledger/members.ts';
import { ids, type Agreement, type ComplaintGround, type ConsentTerms, type DisclosureTerms, type EvaluationRow, type Grant, type Recorded } from '../../../ledger/events.ts';
import { ANSWER_WORKING_DAYS, apply as applyRequest, type SharingRequest } from '../workflow/state.ts';
import { addWorkingDays } from '../workdays.ts';

/** the agency complained against answers within 10 working days; the coordinator decides within 20. */
export const COMPLAINT_ANSWER_WORKING_DAYS = 10;
export const COMPLAINT_DECISION_WORKING_DAYS = 20;

/** A grant as it was issued, and whether it was later revoked (expiry is seen against the clock). */
export interface GrantRecord {
  readonly grant: Grant;
  readonly provider: string | null;
  readonly issuedAt: string;
  readonly seq: number;
  readonly revoked: { readonly at: string; readonly reasons: string } | null;
}

export interface AgreementRecord {
  readonly agreement: Agreement;
  readonly registeredAt: string;
  readonly seq: number;
  readonly revoked: { readonly at: string; readonly reasons: string } | null;
}

export interface Complaint {
  readonly id: string;
  readonly seq: number;
  readonly complainant: string;
  readonly against: string;
  readonly ground: ComplaintGround;
  readonly description: string;
  readonly requestId: string | null;
  readonly filedAt: string;
  readonly answerDueBy: string;
  readonly decisionDueBy: string;
  readonly answer: { readonly text: string; readonly at: string } | null;
  readonly decision: { readonly upheld: boolean; readonly reasons: string; readonly at: string } | null;
  readonly history: readonly number[];
}

export interface Demand {
  readonly id: string;
  readonly seq: number;
  readonly agency: string;
  readonly data: string;
  readonly duty: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly frequency: string;
  readonly recordedAt: string;
  /** The agency the consumer addressed the need to, or null: the authority matches or assigns it. */
  readonly provider: string | null;
  /** An addressed need: the last working day to answer (the sharing-request deadline) and its end as an instant. */
  readonly dueBy: string | null;
  readonly dueAt: string | null;
  /** The addressed agency's written answer; `proposal` names the subgraph proposal that catalogs the data. */
  readonly answer: { readonly willCatalog: boolean; readonly text: string; readonly at: string; readonly seq: number; readonly proposal: string | null } | null;
  readonly outcome:
    | { readonly kind: 'OPEN' }
    | { readonly kind: 'MATCHED'; readonly provider: string; readonly datasets: readonly string[]; readonly note: string; readonly at: string }
    | { readonly kind: 'ASSIGNED'; readonly holder: string; readonly note: string; readonly at: string };
}

/**
 * Where a demand stands. A need addressed to an agency awaits its answer (OVERDUE past the
 * deadline, seen against the clock, not stored); the agency will catalog it or refuses. A need
 * addressed to nobody is OPEN until the authority matches or assigns it.
 */
export type DemandStatus = 'OPEN' | 'MATCHED' | 'ASSIGNED' | 'AWAITING_ANSWER' | 'OVERDUE' | 'WILL_CATALOG' | 'REFUSED';

export function demandStatus(d: Demand, now: Date): DemandStatus {
  if (d.answer !== null) return d.answer.willCatalog ? 'WILL_CATALOG' : 'REFUSED';
  if (d.dueAt !== null) return now.getTime() > Date.parse(d.dueAt) ? 'OVERDUE' : 'AWAITING_ANSWER';
  return d.outcome.kind;
}

/** A subgraph proposal as far as a demand needs it: who proposed it and where it stands. */
export interface ProposalRecord {
  readonly member: string;
  readonly status: 'PENDING' | 'APPROVED' | 'REFUSED';
}

export interface CaseOrder {
  readonly correction: string;
  readonly dueBy: string;
  readonly at: string;
  readonly seq: number;
}

export interface ViolationCase {
  readonly id: string;
  readonly seq: number;
  readonly agency: string;
  readonly findings: readonly string[];
  readonly evidence: readonly number[];
  /** Access-log records of findings drawn from the access log. */
  readonly records: readonly { readonly chain: string; readonly seq: number }[];
  readonly summary: string;
  readonly openedAt: string;
  readonly orders: readonly CaseOrder[];
  readonly notices: readonly { readonly notice: string; readonly at: string; readonly seq: number }[];
  readonly suspensions: readonly string[];
  readonly closed: { readonly reasons: string; readonly at: string } | null;
}

export interface SuspensionRecord {
  readonly id: string;
  readonly agency: string;
  readonly dataset: string;
  readonly from: string;
  readonly until: string;
  readonly reason: string;
  readonly caseId: string | null;
  readonly lifted: { readonly at: string; readonly reasons: string } | null;
}

export interface InconsistencyRecord {
  readonly provider: string | null;
  readonly reportedAt: string;
  readonly answered: boolean;
}

export interface PublishedEvaluation {
  readonly id: string;
  readonly year: number;
  readonly method: string;
  readonly rows: readonly EvaluationRow[];
  readonly corrects: string | null;
  readonly note: string;
  readonly publishedAt: string;
  /** The id of the later version that corrects this one, if any. */
  readonly correctedBy: string | null;
}

export interface Disclosure extends DisclosureTerms {
  readonly id: string;
  readonly seq: number;
  /** The agency that recorded it (the consumer itself, the provider, or the authority). */
  readonly recordedBy: string | null;
  readonly recordedAt: string;
}

export interface Consent extends ConsentTerms {
  readonly id: string;
  readonly seq: number;
  readonly at: string;
}

/** Everything the authority's oversight reads, as one fold of the ledger. */
export interface OversightState {
  readonly requests: Map<string, SharingRequest>;
  readonly grants: Map<string, GrantRecord>;
  readonly agreements: Map<string, AgreementRecord>;
  readonly complaints: Map<string, Complaint>;
  readonly demands: Map<string, Demand>;
  readonly cases: Map<string, ViolationCase>;
  readonly suspensions: Map<string, SuspensionRecord>;
  readonly inconsistencies: Map<string, InconsistencyRecord>;
  readonly evaluations: Map<string, PublishedEvaluation>;
  /** Each agreement's life (proposed, countersigned, filed, revoked), which decides when it is in force. */
  readonly agreementLives: Map<string, AgreementLife>;
  readonly disclosures: Map<string, Disclosure>;
  readonly consents: Map<string, Consent>;
  /** Every update each dataset's provider reported, in ledger order. */
  readonly updates: Map<string, string[]>;
  /** The exchange's members, retired ones too: who the listings and reports are about. */
  readonly members: Map<string, Member>;
  /** Subgraph proposals by id, which an answer to a demand may name. */
  readonly proposals: Map<string, ProposalRecord>;
}

export function emptyState(): OversightState {
  return { requests: new Map(), grants: new Map(), agreements: new Map(), complaints: new Map(), demands: new Map(), cases: new Map(), suspensions: new Map(), inconsistencies: new Map(), evaluations: new Map(), agreementLives: new Map(), disclosures: new Map(), consents: new Map(), updates: new Map(), members: new Map(), proposals: new Map() };
}

function update<T>(map: Map<string, T>, id: string, change: (t: T) => T): void {
  const t = map.get(id);
  if (t !== undefined) map.set(id, change(t));
}

/** Folds one event; `providerOf` names a dataset's provider (from the catalog). */
export function applyOversight(s: OversightState, e: Recorded, providerOf: (dataset: string) => string | null): void {
  applyRequest(s.requests, e);
  applyMember(s.members, e);
  for (const c of grantChanges(e, s.agreementLives)) {
    if (c.op === 'grant') s.grants.set(c.grant.id, { grant: c.grant, provider: providerOf(c.grant.dataset), issuedAt: e.at, seq: e.seq, revoked: null });
    if (c.op === 'revoke-grant') update(s.grants, c.id, (g) => ({ ...g, revoked: { at: e.at, reasons: c.reason } }));
    if (c.op === 'agreement') s.agreements.set(c.agreement.id, { agreement: c.agreement, registeredAt: e.at, seq: e.seq, revoked: null });
    if (c.op === 'revoke-agreement') update(s.agreements, c.id, (a) => ({ ...a, revoked: { at: e.at, reasons: c.reason } }));
    if (c.op === 'suspension') s.suspensions.set(c.suspension.id, { ...c.suspension, caseId: e.type === 'suspension.imposed' ? (e.data.caseId ?? null) : null, lifted: null });
    if (c.op === 'lift-suspension') update(s.suspensions, c.id, (x) => ({ ...x, lifted: { at: e.at, reasons: c.reason } }));
  }
  if (e.type === 'suspension.imposed' && e.data.caseId !== undefined) {
    const id = e.data.suspension.id ?? ids.suspension(e.seq);
    update(s.cases, e.data.caseId, (c) => ({ ...c, suspensions: [...c.suspensions, id] }));
  }
  if (e.type === 'complaint.filed') {
    const id = ids.complaint(e.seq);
    const filed = new Date(e.data.complaint.filedAt);
    s.complaints.set(id, {
      ...e.data.complaint,
      id,
      seq: e.seq,
      answerDueBy: addWorkingDays(filed, COMPLAINT_ANSWER_WORKING_DAYS).dueBy,
      decisionDueBy: addWorkingDays(filed, COMPLAINT_DECISION_WORKING_DAYS).dueBy,
      answer: null,
      decision: null,
      history: [e.seq],
    });
  }
  if (e.type === 'complaint.answered') update(s.complaints, e.data.id, (c) => ({ ...c, answer: { text: e.data.answer, at: e.at }, history: [...c.history, e.seq] }));
  if (e.type === 'complaint.decided') update(s.complaints, e.data.id, (c) => ({ ...c, decision: { upheld: e.data.upheld, reasons: e.data.reasons, at: e.at }, history: [...c.history, e.seq] }));
  if (e.type === 'demand.recorded') {
    const provider = e.data.demand.provider ?? null;
    const deadline = provider === null ? null : addWorkingDays(new Date(e.data.demand.recordedAt), ANSWER_WORKING_DAYS);
    s.demands.set(ids.demand(e.seq), { ...e.data.demand, id: ids.demand(e.seq), seq: e.seq, provider, dueBy: deadline?.dueBy ?? null, dueAt: deadline?.dueAt.toISOString() ?? null, answer: null, outcome: { kind: 'OPEN' } });
  }
  // A later answer only names the proposal of one that said it will catalog: the first answer's time and words stand.
  if (e.type === 'demand.answered') update(s.demands, e.data.id, (d) => ({ ...d, answer: { willCatalog: e.data.willCatalog, text: d.answer?.text ?? e.data.answer, at: d.answer?.at ?? e.at, seq: d.answer?.seq ?? e.seq, proposal: e.data.proposal ?? d.answer?.proposal ?? null } }));
  if (e.type === 'subgraph.proposed') s.proposals.set(ids.proposal(e.seq), { member: e.data.proposal.subgraph.member, status: 'PENDING' });
  if (e.type === 'subgraph.refused') update(s.proposals, e.data.id, (p) => ({ ...p, status: 'REFUSED' as const }));
  if (e.type === 'supergraph.published' && e.data.proposal !== null) update(s.proposals, e.data.proposal, (p) => ({ ...p, status: 'APPROVED' as const }));
  if (e.type === 'demand.matched') update(s.demands, e.data.id, (d) => ({ ...d, outcome: { kind: 'MATCHED' as const, provider: e.data.provider, datasets: e.data.datasets, note: e.data.note, at: e.at } }));
  if (e.type === 'demand.assigned') update(s.demands, e.data.id, (d) => ({ ...d, outcome: { kind: 'ASSIGNED' as const, holder: e.data.holder, note: e.data.note, at: e.at } }));
  if (e.type === 'case.opened') {
    const id = ids.violationCase(e.seq);
    s.cases.set(id, { ...e.data, records: e.data.records ?? [], id, seq: e.seq, openedAt: e.at, orders: [], notices: [], suspensions: [], closed: null });
  }
  if (e.type === 'case.ordered') update(s.cases, e.data.id, (c) => ({ ...c, orders: [...c.orders, { correction: e.data.correction, dueBy: e.data.dueBy, at: e.at, seq: e.seq }] }));
  if (e.type === 'case.criticized') update(s.cases, e.data.id, (c) => ({ ...c, notices: [...c.notices, { notice: e.data.notice, at: e.at, seq: e.seq }] }));
  if (e.type === 'case.closed') update(s.cases, e.data.id, (c) => ({ ...c, closed: { reasons: e.data.reasons, at: e.at } }));
  if (e.type === 'inconsistency.reported') s.inconsistencies.set(ids.inconsistency(e.seq), { provider: providerOf(e.data.report.dataset), reportedAt: e.data.report.reportedAt, answered: false });
  if (e.type === 'inconsistency.answered') update(s.inconsistencies, e.data.id, (r) => ({ ...r, answered: true }));
  if (e.type === 'disclosure.recorded') s.disclosures.set(ids.disclosure(e.seq), { ...e.data.disclosure, id: ids.disclosure(e.seq), seq: e.seq, recordedBy: e.actor?.agency ?? null, recordedAt: e.at });
  if (e.type === 'consent.given') s.consents.set(ids.consent(e.seq), { ...e.data.consent, id: ids.consent(e.seq), seq: e.seq, at: e.at });
  if (e.type === 'dataset.updated') {
    const list = s.updates.get(e.data.dataset) ?? [];
    list.push(e.data.asOf);
    s.updates.set(e.data.dataset, list);
  }
  if (e.type === 'evaluation.published') {
    const id = ids.evaluation(e.data.year, e.seq);
    s.evaluations.set(id, { ...e.data, id, publishedAt: e.at, correctedBy: null });
    if (e.data.corrects !== null) update(s.evaluations, e.data.corrects, (v) => ({ ...v, correctedBy: id }));
  }
}
