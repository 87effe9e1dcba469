import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../../ledger/events.ts';
import { ids } from '../../ledger/events.ts';
import { findingsOfAll } from '../../subgraphs/exchange/oversight/findings.ts';
import { inboxOf } from '../../subgraphs/exchange/oversight/inbox.ts';
import { applyOversight, emptyState, type OversightState } from '../../subgraphs/exchange/oversight/state.ts';

const RECEIVED = '2026-03-02T02:00:00.000Z'; // a Monday; 15 working days end on 2026-03-23
const actor = { sub: 'clerk', agency: 'x' };

function fold(events: { at: string; event: LedgerEvent }[]): OversightState {
  const s = emptyState();
  events.forEach(({ at, event }, i) => applyOversight(s, { ...event, at, actor, seq: i + 1, hash: '' }, () => 'tax'));
  return s;
}

const filed = (consumer: string): LedgerEvent => ({ type: 'request.filed', data: { consumer, provider: 'tax', datasets: ['tax.credit-rating'], purposes: ['credit-supervision'], legalBasis: 'l', justification: 'j', validUntil: '2030-01-01', receivedAt: RECEIVED } });
const id = (seq: number): string => ids.request({ seq, data: { receivedAt: RECEIVED } });

describe('violation findings drawn from the ledger', () => {
  it('finds nothing for an answer within 15 working days, LATE_ANSWER after, MISSED_DEADLINE when none came', () => {
    const s = fold([
      { at: RECEIVED, event: filed('amr') },
      { at: RECEIVED, event: filed('eeb') },
      { at: RECEIVED, event: filed('hrss') },
      { at: '2026-03-23T15:00:00.000Z', event: { type: 'request.approved', data: { id: id(1), conditions: null, grants: [] } } },
      { at: '2026-03-24T01:00:00.000Z', event: { type: 'request.approved', data: { id: id(2), conditions: null, grants: [] } } },
    ]);
    const found = findingsOfAll(s.requests.values(), new Date('2026-04-10T00:00:00Z'));
    expect(found.map((f) => [f.kind, f.requestId, f.evidence])).toEqual([
      ['MISSED_DEADLINE', id(3), [3]],
      ['LATE_ANSWER', id(2), [2, 5]],
    ]);
  });

  it('finds REFUSAL_OVERTURNED when the coordinator approves an escalated refusal', () => {
    const s = fold([
      { at: RECEIVED, event: filed('amr') },
      { at: '2026-03-03T02:00:00.000Z', event: { type: 'request.refused', data: { id: id(1), reasons: '不予提供' } } },
      { at: '2026-03-04T02:00:00.000Z', event: { type: 'request.escalated', data: { id: id(1), reasons: '理由不成立' } } },
      { at: '2026-03-10T02:00:00.000Z', event: { type: 'request.decided', data: { id: id(1), approve: true, reasons: '应予共享', grants: [] } } },
    ]);
    expect(findingsOfAll(s.requests.values(), new Date('2026-04-10T00:00:00Z'))).toEqual([expect.objectContaining({ id: `overturned-${id(1)}`, kind: 'REFUSAL_OVERTURNED', agency: 'tax', evidence: [1, 2, 4] })]);
  });
});

describe("an agency's inbox", () => {
  it('marks a request due within 3 working days as due soon, and one past its deadline as overdue', () => {
    const s = fold([{ at: RECEIVED, event: filed('amr') }]);
    const at = (now: string) => inboxOf(s, 'tax', new Date(now))[0];
    expect(at('2026-03-16T02:00:00Z')).toMatchObject({ kind: 'REQUEST_TO_ANSWER', dueBy: '2026-03-23', workingDaysLeft: 6, dueSoon: false, overdue: false });
    expect(at('2026-03-19T02:00:00Z')).toMatchObject({ workingDaysLeft: 3, dueSoon: true, overdue: false });
    expect(at('2026-03-24T02:00:00Z')).toMatchObject({ workingDaysLeft: 0, dueSoon: true, overdue: true });
    expect(inboxOf(s, 'amr', new Date('2026-03-16T02:00:00Z'))).toEqual([]);
  });

  it("tells the consumer the answer to its request for 30 days, the authority's on escalation included", () => {
    const s = fold([
      { at: RECEIVED, event: filed('amr') },
      { at: '2026-03-03T02:00:00.000Z', event: { type: 'request.refused', data: { id: id(1), reasons: '不予提供' } } },
      { at: '2026-03-04T02:00:00.000Z', event: { type: 'request.escalated', data: { id: id(1), reasons: '理由不成立' } } },
    ]);
    expect(inboxOf(s, 'amr', new Date('2026-03-05T02:00:00Z'))).toEqual([expect.objectContaining({ kind: 'DECISION_RECEIVED', ref: id(1), from: 'tax', summary: 'tax refused your request for tax.credit-rating: 不予提供' })]);
    applyOversight(s, { type: 'request.decided', data: { id: id(1), approve: true, reasons: '应予共享', grants: [] }, at: '2026-03-10T02:00:00.000Z', actor, seq: 4, hash: '' }, () => 'tax');
    expect(inboxOf(s, 'amr', new Date('2026-03-11T02:00:00Z'))).toEqual([expect.objectContaining({ kind: 'DECISION_RECEIVED', from: 'itd', summary: expect.stringContaining('the authority approved your escalated request') })]);
    expect(inboxOf(s, 'amr', new Date('2026-04-10T02:00:00Z'))).toEqual([]);
  });

  it('marks an order to correct past its date as overdue until the case is closed', () => {
    const s = fold([
      { at: RECEIVED, event: { type: 'case.opened', data: { agency: 'tax', findings: ['late-x'], evidence: [], summary: '拖延答复' } } },
      { at: RECEIVED, event: { type: 'case.ordered', data: { id: ids.violationCase(1), correction: '十日内答复', dueBy: '2026-03-12' } } },
    ]);
    expect(inboxOf(s, 'tax', new Date('2026-03-11T02:00:00Z'))).toEqual([expect.objectContaining({ kind: 'ORDER_TO_CORRECT', dueBy: '2026-03-12', dueSoon: true, overdue: false })]);
    expect(inboxOf(s, 'tax', new Date('2026-03-13T02:00:00Z'))).toEqual([expect.objectContaining({ kind: 'ORDER_TO_CORRECT', overdue: true })]);
    applyOversight(s, { type: 'case.closed', data: { id: ids.violationCase(1), reasons: '已整改' }, at: '2026-03-14T02:00:00.000Z', actor, seq: 3, hash: '' }, () => 'tax');
    expect(inboxOf(s, 'tax', new Date('2026-03-14T03:00:00Z'))).toEqual([]);
  });
});
