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

/**
 * Whether a policy line, as a maintainer writes it ("p2, id, consumer, dataset, ...", "p3, id,
 * party, party, dataset, ...", "s, agency, dataset, ..."), is inside the scope `party`: a grant,
 * agreement or suspension where `party` is an agency it names or the provider of its dataset.
 * Decision rules, role reservations and the model name no agency's dealings and concern everyone.
 */
export function policyLineWithinParty(line: string, party: string | undefined): boolean {
  if (party === undefined) return true;
  const cells = line.split(',').map((c) => c.trim());
  const providerOf = (dataset: string | undefined): string | null => (dataset === undefined || dataset === '*' ? null : dataset.slice(0, dataset.indexOf('.')));
  switch (cells[0] ?? '') {
    case 'p2':
      return cells[2] === party || providerOf(cells[3]) === party;
    case 'p3':
      return cells[2] === party || cells[3] === party;
    case 's':
      return cells[1] === party || providerOf(cells[2]) === party;
    default:
      return true;
  }
}
