import type { Recorded } from '../../../ledger/events.ts';
import { timeliness, type SharingRequest } from '../workflow/state.ts';

/**
 * R-40 (Art. 40–41): conduct the ledger shows on its own. LATE: answered after the 15-working-day
 * deadline; MISSED: the deadline passed unanswered (delaying without cause); REFUSAL_OVERTURNED: a
 * refusal the authority's coordinator overturned on escalation (a refusal without valid reasons).
 */
export type FindingKind = 'LATE_ANSWER' | 'MISSED_DEADLINE' | 'REFUSAL_OVERTURNED';

export interface Finding {
  /** Stable: the kind and the request, so a case can name it before and after restarts. */
  readonly id: string;
  readonly kind: FindingKind;
  readonly agency: string;
  readonly requestId: string;
  /** When the conduct happened (the answer, or the deadline that passed). */
  readonly at: string;
  readonly description: string;
  /** Ledger seqs of the events that show it. */
  readonly evidence: readonly number[];
}

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
      at: overturned.at,
      description: `${r.provider}'s refusal of request ${r.id} was overturned by the authority: its reasons did not hold (R-40)`,
      evidence: [...seqOf(filed), refused.seq, overturned.seq],
    });
  }
  return found;
}

export function findingsOfAll(requests: Iterable<SharingRequest>, now: Date): Finding[] {
  return [...requests].flatMap((r) => findingsOf(r, now)).sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}
