import { ids, type Agreement, type Recorded } from './events.ts';

/**
 * A confidentiality agreement's life: one party proposes, the other countersigns, and only
 * then is it in force; either party (or the authority's coordinator) revokes it. EXPIRED is not
 * stored: it is a proposal or an agreement seen after its validUntil.
 */
export type AgreementPhase = 'PROPOSED' | 'IN_FORCE' | 'REVOKED';
export type AgreementStatus = AgreementPhase | 'EXPIRED';

export interface AgreementRecord {
  readonly id: string;
  /** The proposer first. */
  readonly parties: readonly [string, string];
  /** Null for an agreement recorded in force from paper (`agreement.registered`). */
  readonly proposedBy: string | null;
  readonly countersignedBy: string | null;
  readonly datasets: readonly string[];
  readonly validUntil: string;
  readonly documentRef: string;
  readonly proposedAt: string;
  /** When the second signature was recorded: the agreement is in force from then. Null while proposed. */
  readonly signedOn: string | null;
  readonly filedWithSecrecyBureau: boolean;
  readonly phase: AgreementPhase;
  readonly history: readonly Recorded[];
}

/** The agreement steps after the proposal, each one ledger event type. */
export type AgreementStep = 'agreement.countersigned' | 'agreement.filed' | 'agreement.revoked';

export function agreementStatus(a: AgreementRecord, now: Date): AgreementStatus {
  return a.phase !== 'REVOKED' && Date.parse(a.validUntil) <= now.getTime() ? 'EXPIRED' : a.phase;
}

/** Why `step` may not happen to `a` now, or null: the transition rules in one place. */
export function agreementRefusal(a: AgreementRecord, step: AgreementStep, now: Date): string | null {
  const status = agreementStatus(a, now);
  const open = status === 'PROPOSED' || status === 'IN_FORCE';
  switch (step) {
    case 'agreement.countersigned':
      return status === 'PROPOSED' ? null : `agreement ${a.id} is ${status}; only a proposed agreement can be countersigned`;
    case 'agreement.filed':
      if (!open) return `agreement ${a.id} is ${status}; its filing can no longer be recorded`;
      return a.filedWithSecrecyBureau ? `agreement ${a.id} is already recorded as filed with the secrecy bureau` : null;
    case 'agreement.revoked':
      return open ? null : `agreement ${a.id} is ${status} and cannot be revoked`;
  }
}

/** The agreement as the sharing policy holds it, or null when not both parties have signed. */
export function inForce(a: AgreementRecord): Agreement | null {
  if (a.phase !== 'IN_FORCE' || a.signedOn === null) return null;
  return { id: a.id, parties: a.parties, datasets: a.datasets, signedOn: a.signedOn, validUntil: a.validUntil, documentRef: a.documentRef, filedWithSecrecyBureau: a.filedWithSecrecyBureau };
}

/** One agreement as it was before an event and as it is after it. */
export interface AgreementChange {
  readonly before: AgreementRecord | undefined;
  readonly after: AgreementRecord;
}

/**
 * Folds one ledger event into the agreements, in ledger order. Returns the agreement it changed,
 * or null for other events and for steps naming no known agreement (the workflow refuses those
 * before recording, so only a hand-made ledger has them).
 */
export function applyAgreement(agreements: Map<string, AgreementRecord>, e: Recorded): AgreementChange | null {
  const step = (id: string, change: (a: AgreementRecord) => Partial<AgreementRecord>): AgreementChange | null => {
    const before = agreements.get(id);
    if (before === undefined) return null;
    const after = { ...before, ...change(before), history: [...before.history, e] };
    agreements.set(id, after);
    return { before, after };
  };
  if (e.type === 'agreement.proposed') {
    const t = e.data.terms;
    const after: AgreementRecord = {
      id: ids.agreement(e.seq),
      parties: [t.proposer, t.counterparty],
      proposedBy: t.proposer,
      countersignedBy: null,
      datasets: t.datasets,
      validUntil: t.validUntil,
      documentRef: t.documentRef,
      proposedAt: e.at,
      signedOn: null,
      filedWithSecrecyBureau: false,
      phase: 'PROPOSED',
      history: [e],
    };
    agreements.set(after.id, after);
    return { before: undefined, after };
  }
  if (e.type === 'agreement.registered') {
    const g = e.data.agreement;
    const id = g.id ?? ids.agreement(e.seq);
    const before = agreements.get(id);
    const after: AgreementRecord = { ...g, id, proposedBy: null, countersignedBy: null, proposedAt: e.at, phase: 'IN_FORCE', history: [...(before?.history ?? []), e] };
    agreements.set(id, after);
    return { before, after };
  }
  if (e.type === 'agreement.countersigned') return step(e.data.id, () => ({ phase: 'IN_FORCE', signedOn: e.at, countersignedBy: e.actor?.agency ?? null }));
  if (e.type === 'agreement.filed') return step(e.data.id, () => ({ filedWithSecrecyBureau: true }));
  if (e.type === 'agreement.revoked') return step(e.data.id, () => ({ phase: 'REVOKED' }));
  return null;
}
