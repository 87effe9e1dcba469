import { readGrantLines } from '../../../common/grant-lines.ts';
import type { Grant } from '../../../ledger/events.ts';
import type { CheckDeps } from './check.ts';

type GrantSource = CheckDeps['grants'];

/**
 * The standing grants a policy directory's maintainers wrote (p2 lines, policies/grants.csv), one
 * grant per id with the purposes of its lines. Read at each call, so that the check sees the file
 * the gateway enforces now. A line without a legal basis or with a date that does not parse is left
 * out: the gateway refuses the whole policy for it.
 */
export function policyFileGrants(dir: string): Grant[] {
  const byKey = new Map<string, { grant: Grant; purposes: string[] }>();
  for (const l of readGrantLines(dir)) {
    if (l.legalBasis === '' || Number.isNaN(Date.parse(l.validFrom)) || Number.isNaN(Date.parse(l.validUntil))) continue;
    const key = `${l.id}\n${l.consumer}\n${l.dataset}\n${l.validFrom}\n${l.validUntil}`;
    const known = byKey.get(key);
    if (known !== undefined) known.purposes.push(l.purpose);
    else byKey.set(key, { grant: { id: l.id, consumer: l.consumer, dataset: l.dataset, purposes: [], validFrom: l.validFrom, validUntil: l.validUntil }, purposes: [l.purpose] });
  }
  return [...byKey.values()].map(({ grant, purposes }) => ({ ...grant, purposes }));
}

/**
 * The grants the check lists: the ledger's (filed through the sharing-request workflow) and the
 * standing ones of the policy directory. Without a directory, the ledger's alone.
 */
export function grantsWithPolicyFiles(ledger: GrantSource, policyDir: string | undefined): GrantSource {
  if (policyDir === undefined) return ledger;
  return {
    snapshot: async () => {
      const grants = new Map((await ledger.snapshot()).grants);
      // A file grant keeps its own key: an id the ledger also uses must not hide either of them.
      for (const g of policyFileGrants(policyDir)) grants.set(`policy-file:${g.id}:${g.dataset}:${g.consumer}`, g);
      return { grants };
    },
  };
}
