import type { ProposalTerms, SupergraphVersion } from '../../../ledger/events.ts';
import { checkProposal, type CheckDeps as ProposalCheckDeps } from './check.ts';
import type { RegistryMembers } from './members.ts';
import type { CheckReport } from './report.ts';

/** What the check of one proposal is asked: the version it would change, the proposal, and who proposes. */
export interface CheckInput {
  readonly base: SupergraphVersion;
  readonly proposal: ProposalTerms;
  readonly proposer: string;
}

/**
 * What the check reads besides the proposal: the members composition may name and who may propose,
 * the grants in force, and who read which fields (the access log's counts or the archive's).
 */
export interface CheckDeps extends ProposalCheckDeps {
  readonly members: RegistryMembers;
}

export type CheckFn = (input: CheckInput) => Promise<CheckReport>;

/** The one check the registry runs, for the GraphQL API and the CLI alike (docs/registry.md, "The check"). */
export function registryCheck(deps: CheckDeps): CheckFn {
  return (input) => checkProposal(input, deps);
}
