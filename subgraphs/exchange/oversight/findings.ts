import type { Recorded } from '../../../ledger/events.ts';
import { endOfDay } from '../workdays.ts';
import { timeliness, type SharingRequest } from '../workflow/state.ts';
import type { AccessFinding, Reads, RecordRef } from './access-watch.ts';
import type { Demand, OversightState } from './state.ts';

/**
 * R-40 (Art. 40–41). From the ledger: LATE_ANSWER, answered after the 15-working-day deadline;
 * MISSED_DEADLINE, the deadline passed unanswered (delaying without cause); REFUSAL_OVERTURNED, a
 * refusal the authority's coordinator overturned on escalation (a refusal without valid reasons);
 * PASSED_ON_WITHOUT_CONSENT, a recorded disclosure of obtained data the provider had not consented
 * to. From the access log (see access-watch.ts): PURPOSE_OUTSIDE_GRANT, REPEATED_PROBING.
 */
export type FindingKind = 'LATE_ANSWER' | 'MISSED_DEADLINE' | 'REFUSAL_OVERTURNED' | 'PASSED_ON_WITHOUT_CONSENT' | AccessFinding['kind'];

export interface Finding {
  /** Stable: the kind and what it is about, so a case can name it before and after restarts. */
  readonly id: string;
  readonly kind: FindingKind;
  readonly agency: string;
  readonly requestId: string | null;
  readonly dataset: string | null;
  /** When the conduct happened (the answer, the deadline that passed, the first record). */
  readonly at: string;
  readonly description: string;
  /** Ledger seqs of the events that show it. */
  readonly evidence: readonly number[];
  /** Access-log records that show it (at most EVIDENCE_KEPT of them)... */
  readonly records: readonly RecordRef[];
  /** ...of this many. */
  readonly recordCount: number;
}

const fromLedger = { dataset: null, records: [], recordCount: 0 } as const;

const seqOf = (e: Recorded | undefined): number[] => (e === undefined ? [] : [e.seq]);

/** The findings one request gives rise to now. */
export function findingsOf(r: SharingRequest, now: Date): Finding[] {
  const filed = r.history[0];
  const found: Finding[] = [];
  const t = timeliness(r, now);
  if (t === 'LATE') {
    const answer = r.history.find((e) => e.type === 'request.approved' || e.type === 'request.refused');
    found.push({
      id: `late-${r.id}`,
      kind: 'LATE_ANSWER',
      agency: r.provider,
      requestId: r.id,
      ...fromLedger,
      at: answer?.at ?? r.dueAt,
      description: `${r.provider} answered request ${r.id} of ${r.consumer} after its deadline ${r.dueBy} (R-22)`,
      evidence: [...seqOf(filed), ...seqOf(answer)],
    });
  }
  if (t === 'MISSED') {
    const ended = r.history.find((e) => e.type === 'request.withdrawn' || e.type === 'request.escalated');
    found.push({
      id: `missed-${r.id}`,
      kind: 'MISSED_DEADLINE',
      agency: r.provider,
      requestId: r.id,
      ...fromLedger,
      at: r.dueAt,
      description: `${r.provider} left request ${r.id} of ${r.consumer} unanswered past its deadline ${r.dueBy} (R-22, R-40)`,
      evidence: [...seqOf(filed), ...seqOf(ended)],
    });
  }
  const refused = r.history.find((e) => e.type === 'request.refused');
  const overturned = r.history.find((e) => e.type === 'request.decided' && e.data.approve);
  if (refused !== undefined && overturned !== undefined) {
    found.push({
      id: `overturned-${r.id}`,
      kind: 'REFUSAL_OVERTURNED',
      agency: r.provider,
      requestId: r.id,
      ...fromLedger,
      at: overturned.at,
      description: `${r.provider}'s refusal of request ${r.id} was overturned by the authority: its reasons did not hold (R-40)`,
      evidence: [...seqOf(filed), refused.seq, overturned.seq],
    });
  }
  return found;
}

/**
 * Disclosures of obtained data with no consent of the provider for that consumer, dataset
 * and recipient (or '*') given beforehand: recorded before the disclosure was, and by the end of
 * the day it happened (consent after the fact does not clear it). The evidence is the disclosure's
 * ledger seq and the consumer's allowed reads of the dataset from the access log.
 */
export function disclosureFindings(s: OversightState, providerOf: (dataset: string) => string | null, reads: (consumer: string, dataset: string) => Reads): Finding[] {
  const found: Finding[] = [];
  for (const d of s.disclosures.values()) {
    const provider = providerOf(d.dataset);
    const by = endOfDay(d.disclosedOn).getTime();
    const consented = [...s.consents.values()].some(
      (c) => c.provider === provider && c.consumer === d.consumer && c.dataset === d.dataset && (c.recipient === '*' || c.recipient === d.recipient) && c.seq < d.seq && Date.parse(c.at) <= by,
    );
    if (consented) continue;
    const r = reads(d.consumer, d.dataset);
    found.push({
      id: `disclosed-${d.id}`,
      kind: 'PASSED_ON_WITHOUT_CONSENT',
      agency: d.consumer,
      requestId: null,
      dataset: d.dataset,
      at: d.recordedAt,
      description: `${d.consumer} passed ${d.dataset} of ${provider ?? 'its provider'} on to ${d.recipient} on ${d.disclosedOn} without ${provider ?? 'the provider'}'s consent (R-25, R-40); it read that dataset ${r.count} time(s) through the exchange`,
      evidence: [d.seq],
      records: r.records,
      recordCount: r.count,
    });
  }
  return found;
}

/**
 * A request for uncatalogued data (a demand addressed to an agency) is held to the same deadline
 * as a sharing request: answered after it, LATE_ANSWER; unanswered past it, MISSED_DEADLINE.
 * `requestId` names the demand.
 */
export function demandFindings(demands: Iterable<Demand>, now: Date): Finding[] {
  const found: Finding[] = [];
  for (const d of demands) {
    if (d.provider === null || d.dueAt === null) continue;
    const due = Date.parse(d.dueAt);
    const about = { agency: d.provider, requestId: d.id, ...fromLedger };
    if (d.answer !== null && Date.parse(d.answer.at) > due) {
      found.push({ id: `late-${d.id}`, kind: 'LATE_ANSWER', ...about, at: d.answer.at, description: `${d.provider} answered ${d.agency}'s request ${d.id} for uncatalogued data after its deadline ${d.dueBy ?? ''} (R-21, R-22)`, evidence: [d.seq, d.answer.seq] });
    }
    if (d.answer === null && now.getTime() > due) {
      found.push({ id: `missed-${d.id}`, kind: 'MISSED_DEADLINE', ...about, at: d.dueAt, description: `${d.provider} left ${d.agency}'s request ${d.id} for uncatalogued data unanswered past its deadline ${d.dueBy ?? ''} (R-21, R-40)`, evidence: [d.seq] });
    }
  }
  return found;
}

export function byTime(findings: readonly Finding[]): Finding[] {
  // Code-unit order: ISO times and ids sort right without a locale (much faster on many findings).
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return [...findings].sort((a, b) => cmp(a.at, b.at) || cmp(a.id, b.id));
}

export function findingsOfAll(requests: Iterable<SharingRequest>, now: Date): Finding[] {
  return byTime([...requests].flatMap((r) => findingsOf(r, now)));
}
