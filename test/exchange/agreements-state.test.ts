import { describe, expect, it } from 'vitest';
import { agreementRefusal, agreementStatus, type AgreementRecord } from '../../ledger/agreements.ts';
import type { LedgerEvent, Recorded } from '../../ledger/events.ts';
import { grantChanges, type GrantChange } from '../../ledger/grants.ts';

let seq = 0;
function recorded(event: LedgerEvent, agency: string): Recorded {
  seq++;
  return { ...event, seq, hash: `h${seq}`, at: `2026-03-0${seq}T08:00:00.000Z`, actor: { sub: `${agency}-1`, agency } };
}

/** The policy changes a sequence of ledger events makes, event by event. */
function changesOf(events: [LedgerEvent, string][]): { lives: Map<string, AgreementRecord>; changes: GrantChange[][] } {
  const lives = new Map<string, AgreementRecord>();
  return { lives, changes: events.map(([e, agency]) => grantChanges(recorded(e, agency), lives)) };
}

const PROPOSAL: LedgerEvent = { type: 'agreement.proposed', data: { terms: { proposer: 'eeb', counterparty: 'tax', datasets: ['tax.credit-rating'], validUntil: '2028-01-01', documentRef: 'doc' } } };

describe('the grants projection of agreements', () => {
  it('puts an agreement in force at the countersignature, not at the proposal, and takes it out at revocation', () => {
    seq = 0;
    const { changes } = changesOf([
      [PROPOSAL, 'eeb'],
      [{ type: 'agreement.countersigned', data: { id: 'ag-1' } }, 'tax'],
      [{ type: 'agreement.filed', data: { id: 'ag-1', reference: null } }, 'itd'],
      [{ type: 'agreement.revoked', data: { id: 'ag-1', reasons: 'ended' } }, 'eeb'],
    ]);
    expect(changes[0]).toEqual([]);
    expect(changes[1]).toEqual([{ op: 'agreement', agreement: { id: 'ag-1', parties: ['eeb', 'tax'], datasets: ['tax.credit-rating'], signedOn: '2026-03-02T08:00:00.000Z', validUntil: '2028-01-01', documentRef: 'doc', filedWithSecrecyBureau: false } }]);
    expect(changes[2]).toMatchObject([{ op: 'agreement', agreement: { id: 'ag-1', filedWithSecrecyBureau: true } }]);
    expect(changes[3]).toEqual([{ op: 'revoke-agreement', id: 'ag-1', reason: 'ended' }]);
  });

  it('changes no policy for a filing or a withdrawal of a proposal never countersigned', () => {
    seq = 0;
    const { changes, lives } = changesOf([
      [PROPOSAL, 'eeb'],
      [{ type: 'agreement.filed', data: { id: 'ag-1', reference: 'x' } }, 'itd'],
      [{ type: 'agreement.revoked', data: { id: 'ag-1', reasons: 'withdrawn' } }, 'eeb'],
    ]);
    expect(changes).toEqual([[], [], []]);
    expect(lives.get('ag-1')).toMatchObject({ phase: 'REVOKED', filedWithSecrecyBureau: true, countersignedBy: null });
  });
});

describe('agreement steps', () => {
  seq = 0;
  const { lives } = changesOf([[PROPOSAL, 'eeb']]);
  const proposed = lives.get('ag-1')!;
  const inForce: AgreementRecord = { ...proposed, phase: 'IN_FORCE', signedOn: '2026-03-02T08:00:00.000Z' };
  const revoked: AgreementRecord = { ...proposed, phase: 'REVOKED' };
  const now = new Date('2027-01-01T00:00:00Z');
  const later = new Date('2028-01-01T00:00:00Z');

  it.each([
    ['PROPOSED', proposed, now, 'agreement.countersigned', null],
    ['IN_FORCE', inForce, now, 'agreement.countersigned', 'only a proposed agreement can be countersigned'],
    ['REVOKED', revoked, now, 'agreement.countersigned', 'is REVOKED'],
    ['EXPIRED', proposed, later, 'agreement.countersigned', 'is EXPIRED'],
    ['PROPOSED', proposed, now, 'agreement.filed', null],
    ['IN_FORCE', inForce, now, 'agreement.filed', null],
    ['filed', { ...inForce, filedWithSecrecyBureau: true }, now, 'agreement.filed', 'already recorded as filed'],
    ['REVOKED', revoked, now, 'agreement.filed', 'is REVOKED'],
    ['PROPOSED', proposed, now, 'agreement.revoked', null],
    ['IN_FORCE', inForce, now, 'agreement.revoked', null],
    ['REVOKED', revoked, now, 'agreement.revoked', 'cannot be revoked'],
    ['EXPIRED', inForce, later, 'agreement.revoked', 'is EXPIRED'],
  ] as const)('a %s agreement: %s → %s', (_, a, at, step, refused) => {
    const why = agreementRefusal(a, step, at);
    if (refused === null) expect(why).toBeNull();
    else expect(why).toContain(refused);
  });

  it('is EXPIRED from validUntil on, unless revoked', () => {
    expect(agreementStatus(inForce, now)).toBe('IN_FORCE');
    expect(agreementStatus(inForce, later)).toBe('EXPIRED');
    expect(agreementStatus(revoked, later)).toBe('REVOKED');
  });
});
