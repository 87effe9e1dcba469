import type { SubgraphContext } from '../../kit/context.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { openGrantStore } from '../../../ledger/grants.ts';
import { openRegistry, type ProposalStatus, type Registry } from '../../../ledger/registry.ts';
import type { ReadCounts } from './reads.ts';
import { registryCheck, type CheckDeps } from './run-check.ts';
import { seedRegistry } from './seed.ts';
import { grantsWithPolicyFiles } from './file-grants.ts';
import { REFERENCE_MEMBERS, type RegistryMembers } from './members.ts';
import { registryService, type ProposalInput, type RegistryService } from './service.ts';

export interface RegistryDeps {
  readonly ledger: Ledger;
  readonly supergraphPath: string;
  readonly members?: RegistryMembers;
  readonly log?: (line: string) => void;
  /** Who read which fields, for the breaking changes of a check: the access log's counts or the archive's. */
  readonly reads: ReadCounts;
  /** The grants in force; by default folded from the ledger here. */
  readonly grants?: CheckDeps['grants'];
  /** The clock of the check's 90 days of reads and of the grants in force. */
  readonly now?: () => Date;
  /** POLICY_DIR: its standing grants (p2 lines) are listed beside the ledger's; absent: the ledger's alone. */
  readonly policyDir?: string;
}

/**
 * The registry service over a ledger, the same for the exchange and the CLI. With `seed` (the
 * exchange's start), version 1 is recorded first if none is published yet.
 */
export async function openRegistryService(deps: RegistryDeps & { readonly seed: boolean }): Promise<{ service: RegistryService; registry: Registry; close(): void }> {
  const registry = await openRegistry(deps.ledger);
  if (deps.seed) await seedRegistry(deps.ledger, registry, deps.supergraphPath, deps.log ?? ((l) => process.stderr.write(`${l}\n`)));
  const members = deps.members ?? REFERENCE_MEMBERS;
  // On the ledger already open here, the grant store only adds a fold of the grants.
  const store = deps.grants === undefined ? await openGrantStore({ dataDir: '', redisUrl: null, ledger: deps.ledger, ...(deps.log !== undefined ? { log: deps.log } : {}) }) : null;
  const grants = grantsWithPolicyFiles(deps.grants ?? store!, deps.policyDir);
  const check = registryCheck({ members, grants, reads: deps.reads, ...(deps.now !== undefined ? { now: deps.now } : {}) });
  const service = registryService({ ledger: deps.ledger, registry, members, check });
  return {
    service,
    registry,
    close: () => {
      registry.stop();
      void store?.close();
    },
  };
}

/** The registry's GraphQL (docs/registry.md): thin over the service, which holds every rule. */
export function registryResolvers(service: RegistryService) {
  return {
    Query: {
      checkSubgraph: (_: unknown, args: { input: ProposalInput }, ctx: SubgraphContext) => service.check(args.input, ctx.caller),
      proposals: (_: unknown, args: { status?: ProposalStatus | null }, ctx: SubgraphContext) => service.proposals(args.status ?? null, ctx.caller),
      proposal: (_: unknown, args: { id: string }, ctx: SubgraphContext) => service.proposal(args.id, ctx.caller),
      supergraphVersions: () => service.versions(),
    },
    Mutation: {
      proposeSubgraph: (_: unknown, args: { input: ProposalInput }, ctx: SubgraphContext) => service.propose(args.input, ctx.caller),
      approveProposal: (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => service.approve(args.id, args.reasons, ctx.caller),
      refuseProposal: (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => service.refuse(args.id, args.reasons, ctx.caller),
      rollbackSupergraph: (_: unknown, args: { version: number; reasons: string }, ctx: SubgraphContext) => service.rollback(args.version, args.reasons, ctx.caller),
    },
    SupergraphVersionInfo: {
      changes: (v: { changes: () => unknown }) => v.changes(),
    },
  };
}
