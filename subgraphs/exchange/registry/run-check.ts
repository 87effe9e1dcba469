import type { ProposalTerms, SupergraphVersion } from '../../../ledger/events.ts';
import { composeProposal } from './compose-proposal.ts';
import type { RegistryMembers } from './members.ts';
import type { CheckReport } from './report.ts';

/** What the check of one proposal is asked: the version it would change, the proposal, and who proposes. */
export interface CheckInput {
  readonly base: SupergraphVersion;
  readonly proposal: ProposalTerms;
  readonly proposer: string;
}

/** What the check reads besides the proposal: the members composition may name. */
export interface CheckDeps {
  readonly members: RegistryMembers;
}

export type CheckFn = (input: CheckInput) => Promise<CheckReport>;

/** The composition part of the check: approvable when the proposal composes with the version's other subgraphs. */
export function compositionReport(input: CheckInput, deps: CheckDeps): CheckReport {
  const composed = composeProposal(input.base, input.proposal, deps.members.names());
  return {
    approvable: composed.ok,
    compositionErrors: composed.ok ? [] : composed.errors,
    undeclaredFields: [],
    sources: [],
    guardrails: [],
    breakingChanges: [],
    catalogDiff: [],
    readsFrom: 'access log',
  };
}

/** The one check the registry runs, for the GraphQL API and the CLI alike. */
export function registryCheck(deps: CheckDeps): CheckFn {
  return async (input) => compositionReport(input, deps);
}
