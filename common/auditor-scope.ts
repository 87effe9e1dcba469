/** The authority runs the exchange; its auditors read the whole access log (docs/audit.md). */
export const AUTHORITY_AGENCY = 'itd';

/**
 * What an auditor of `agency` may read of the access log: everything for the authority's auditors;
 * for another agency's, the records where that agency is the consumer (`agency`) or the `provider`.
 * Returned as a filter term (`party`) that narrows whatever else the auditor asks for.
 */
export function auditorScope(agency: string): { readonly party?: string } {
  return agency === AUTHORITY_AGENCY ? {} : { party: agency };
}

/** Whether a record is inside the scope `party` (undefined: no limit). */
export function withinParty(record: { readonly agency: string; readonly provider: string | null }, party: string | undefined): boolean {
  return party === undefined || record.agency === party || record.provider === party;
}
