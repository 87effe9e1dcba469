import { describe, expect, it } from 'vitest';
import { ids, type Recorded } from '../../ledger/events.ts';
import { apply, daysLeft, refusal, statusOf, timeliness, type SharingRequest } from '../../subgraphs/exchange/workflow/state.ts';

function filed(receivedAt: string): SharingRequest {
  const requests = new Map<string, SharingRequest>();
  const event: Recorded = {
    seq: 1,
    hash: 'h1',
    at: receivedAt,
    type: 'request.filed',
    actor: { sub: 'eeb-1', agency: 'eeb' },
    data: { consumer: 'eeb', provider: 'tax', datasets: ['tax.credit-rating'], purposes: ['environmental-enforcement'], legalBasis: 'x', justification: 'y', validUntil: '2027-12-31', receivedAt },
  };
  apply(requests, event);
  return requests.get(ids.request(event))!;
}

describe('sharing request states', () => {
  it('a request received before National Day is due 15 working days later and OVERDUE after that day ends', () => {
    const r = filed('2026-09-28T02:00:00.000Z');
    expect(r.dueBy).toBe('2026-10-23');
    expect(statusOf(r, new Date('2026-10-23T15:00:00Z'))).toBe('PENDING');
    expect(daysLeft(r, new Date('2026-10-22T02:00:00Z'))).toBe(2);
    expect(statusOf(r, new Date('2026-10-23T16:00:01Z'))).toBe('OVERDUE');
  });

  it('may be escalated once overdue, but not while still pending within the deadline', () => {
    const r = filed('2026-09-28T02:00:00.000Z');
    expect(refusal(r, 'request.escalated', new Date('2026-10-01T00:00:00Z'))).toMatch(/only a refused or overdue request can be escalated/);
    expect(refusal(r, 'request.escalated', new Date('2026-10-26T00:00:00Z'))).toBeNull();
  });

  it('cannot be answered twice or decided by the authority before escalation', () => {
    const r = { ...filed('2026-09-28T02:00:00.000Z'), phase: 'APPROVED' as const };
    expect(refusal(r, 'request.refused', new Date('2026-10-01T00:00:00Z'))).toMatch(/only a pending request can be answered/);
    expect(refusal(r, 'request.decided', new Date('2026-10-01T00:00:00Z'))).toMatch(/only an escalated request/);
  });

  it('marks a deadline that runs into a year without its official calendar as provisional', () => {
    expect(filed('2026-12-21T02:00:00.000Z')).toMatchObject({ dueBy: '2027-01-12', dueProvisional: true });
  });

  describe('R-40: the deadline counted against the provider', () => {
    // Received 2026-09-28, due by the end of 2026-10-23 (CST) = 2026-10-23T15:59:59.999Z.
    const after = (r: SharingRequest, at: string, type: string, extra: Record<string, unknown> = {}): SharingRequest => {
      const requests = new Map([[r.id, r]]);
      apply(requests, { seq: r.history.length + 1, hash: 'h', at, type, actor: { sub: 'x', agency: 'tax' }, data: { id: r.id, reasons: 'r', conditions: null, grants: [], approve: false, ...extra } } as unknown as Recorded);
      return requests.get(r.id)!;
    };
    const r = filed('2026-09-28T02:00:00.000Z');
    const later = new Date('2026-12-01T00:00:00Z');

    it.each([
      ['an approval on the due day', after(r, '2026-10-23T15:59:00.000Z', 'request.approved'), 'ON_TIME'],
      ['a refusal the day after the due day', after(r, '2026-10-23T16:00:01.000Z', 'request.refused'), 'LATE'],
      ['no answer, the deadline passed', r, 'MISSED'],
      ['escalated after the deadline passed unanswered', after(r, '2026-10-26T02:00:00.000Z', 'request.escalated'), 'MISSED'],
      ['withdrawn after the deadline passed unanswered', after(r, '2026-10-26T02:00:00.000Z', 'request.withdrawn'), 'MISSED'],
      ['withdrawn before the deadline', after(r, '2026-10-12T02:00:00.000Z', 'request.withdrawn'), 'WITHDRAWN'],
    ])('%s is %s', (_, request, expected) => {
      expect(timeliness(request, later)).toBe(expected);
    });

    it('is OPEN while unanswered within the deadline', () => {
      expect(timeliness(r, new Date('2026-10-23T15:00:00Z'))).toBe('OPEN');
    });
  });

  it("adds a grant's revocation or expiry to the history of the request that created it, and ignores other requests' grants", () => {
    const r = filed('2026-09-28T02:00:00.000Z');
    const requests = new Map([[r.id, r]]);
    apply(requests, { seq: 2, hash: 'h2', at: '2026-10-01T00:00:00.000Z', type: 'grant.expired', actor: null, data: { id: 'g-2-1', requestId: r.id, validUntil: '2026-10-01' } });
    apply(requests, { seq: 3, hash: 'h3', at: '2026-10-02T00:00:00.000Z', type: 'grant.revoked', actor: null, data: { id: 'g-ref-1', requestId: null, reasons: 'x' } });
    expect(requests.get(r.id)!.history.map((e) => e.type)).toEqual(['request.filed', 'grant.expired']);
  });
});
