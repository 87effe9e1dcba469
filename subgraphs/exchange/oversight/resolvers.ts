import { caseResolvers } from './case-resolvers.ts';
import { complaintResolvers } from './complaint-resolvers.ts';
import { oversightCore, type OversightDeps } from './core.ts';
import { demandResolvers } from './demand-resolvers.ts';
import { disclosureResolvers } from './disclosure-resolvers.ts';
import { evaluationResolvers } from './evaluation-resolvers.ts';
import { listingResolvers } from './listing-resolvers.ts';
import { usageResolvers } from './usage-resolvers.ts';

export type { OversightDeps } from './core.ts';

/**
 * The authority's oversight (docs/oversight.md): listings of requests, grants and agreements;
 * each agency's inbox; complaints; the demand register (Art. 12–13); disclosures and
 * consent; violation findings and cases; usage statistics; the annual evaluation. Every
 * step is a ledger event; state is one fold of the ledger that each job's resolvers share.
 */
export async function oversight(deps: OversightDeps) {
  const core = await oversightCore(deps);
  const listings = listingResolvers(core);
  const complaints = complaintResolvers(core);
  const demands = demandResolvers(core);
  const disclosures = disclosureResolvers(core);
  const cases = caseResolvers(core);
  const evaluation = evaluationResolvers(core);
  const usage = usageResolvers(core);
  return {
    close(): void {
      core.projection.stop();
    },
    Query: { ...listings.Query, ...complaints.Query, ...demands.Query, ...cases.Query, ...usage.Query, ...evaluation.Query },
    Mutation: { ...complaints.Mutation, ...demands.Mutation, ...disclosures.Mutation, ...cases.Mutation, ...evaluation.Mutation },
  };
}
