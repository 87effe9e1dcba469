import { statusOf, type SharingRequest } from '../workflow/state.ts';
import type { AgreementRecord, GrantRecord } from './state.ts';

/** What the authority's listings filter on; every field optional, all given ones must hold. */
export interface ListingFilter {
  readonly agency?: string | null;
  readonly dataset?: string | null;
  readonly state?: string | null;
  /** ISO times, inclusive, on when the item was filed, issued or registered. */
  readonly since?: string | null;
  readonly until?: string | null;
}

export type GrantState = 'SCHEDULED' | 'ACTIVE' | 'EXPIRED' | 'REVOKED';
export type AgreementState = 'IN_FORCE' | 'EXPIRED' | 'REVOKED';

export function grantState(g: GrantRecord, now: Date): GrantState {
  if (g.revoked !== null) return 'REVOKED';
  const t = now.getTime();
  if (Date.parse(g.grant.validUntil) <= t) return 'EXPIRED';
  return Date.parse(g.grant.validFrom) > t ? 'SCHEDULED' : 'ACTIVE';
}

export function agreementState(a: AgreementRecord, now: Date): AgreementState {
  if (a.revoked !== null) return 'REVOKED';
  return Date.parse(a.agreement.validUntil) <= now.getTime() ? 'EXPIRED' : 'IN_FORCE';
}

function inSpan(at: string, f: ListingFilter): boolean {
  const t = Date.parse(at);
  if (f.since && t < Date.parse(f.since)) return false;
  // A date alone means the whole of that day.
  if (f.until && t > Date.parse(f.until.length === 10 ? `${f.until}T23:59:59.999Z` : f.until)) return false;
  return true;
}

const given = (v: string | null | undefined): v is string => v !== null && v !== undefined && v !== '';

export function requestMatches(r: SharingRequest, f: ListingFilter, now: Date): boolean {
  if (given(f.agency) && r.consumer !== f.agency && r.provider !== f.agency) return false;
  if (given(f.dataset) && !r.datasets.includes(f.dataset)) return false;
  if (given(f.state) && statusOf(r, now) !== f.state) return false;
  return inSpan(r.receivedAt, f);
}

export function grantMatches(g: GrantRecord, f: ListingFilter, now: Date): boolean {
  if (given(f.agency) && g.grant.consumer !== f.agency && g.provider !== f.agency) return false;
  if (given(f.dataset) && g.grant.dataset !== f.dataset) return false;
  if (given(f.state) && grantState(g, now) !== f.state) return false;
  return inSpan(g.issuedAt, f);
}

export function agreementMatches(a: AgreementRecord, f: ListingFilter, now: Date): boolean {
  if (given(f.agency) && !a.agreement.parties.includes(f.agency)) return false;
  if (given(f.dataset) && !a.agreement.datasets.includes(f.dataset) && !a.agreement.datasets.includes('*')) return false;
  if (given(f.state) && agreementState(a, now) !== f.state) return false;
  return inSpan(a.registeredAt, f);
}
