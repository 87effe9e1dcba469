import type { SubgraphContext } from '../../kit/context.ts';
import type { Actor, LedgerEvent } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { directoryOf } from '../../../ledger/members.ts';
import type { Catalogs } from '../catalog/versions.ts';
import type { CatalogAt } from './evaluation.ts';
import type { ListingFilter } from './listings.ts';
import { bad, forbidden, isoDate, seesAll } from './scope.ts';
import { applyOversight, emptyState } from './state.ts';
import type { UsageSource } from './usage.ts';
import type { UsageFollower } from './usage-follower.ts';

/** What oversight reads of the catalog, which follows the published supergraph versions. */
export interface OversightCatalog {
  /** The provider of a dataset in the current catalog or an earlier version's (its grants and reports stay); null for one never catalogued. */
  readonly providerOf: (dataset: string) => string | null;
  /** Whether the dataset is in the current catalog: what a demand can be matched with, or a suspension name. */
  readonly catalogued: (dataset: string) => boolean;
  /** The datasets in force at an instant (ms), for the evaluation of a year. */
  readonly at: CatalogAt;
}

/** Oversight's view of the catalog's versions. */
export function oversightCatalog(c: Catalogs): OversightCatalog {
  return {
    providerOf: (d) => c.providerOf(d),
    catalogued: (d) => c.current().byId.has(d),
    at: (time) => {
      const s = c.at(time);
      return new Map(s.shapes.map((d) => [d.id, { provider: d.provider, frequency: s.entries[d.id]!.frequency, lastUpdate: s.entries[d.id]!.lastUpdate }]));
    },
  };
}

export interface OversightDeps {
  readonly ledger: Ledger;
  /** The catalog as the published supergraph versions make it. */
  readonly catalog: OversightCatalog;
  /** The workflow's own resolvers: a listing shows each request exactly as the workflow does. */
  readonly sharingRequest: (parent: unknown, args: { id: string }, ctx: SubgraphContext) => unknown;
  readonly sharingRequests: (parent: unknown, args: { role: 'CONSUMER' | 'PROVIDER'; status?: string | null }, ctx: SubgraphContext) => readonly { id: string }[];
  /** Where the usage statistics come from: the access log's running counts, or the archive. */
  readonly usage?: UsageSource;
  /** The access log followed in this process: the conduct it shows for the findings. */
  readonly accessLog?: Pick<UsageFollower, 'sync' | 'watch'>;
  readonly now?: () => Date;
}

export interface PageArgs {
  readonly filter?: ListingFilter | null;
  readonly first?: number | null;
  readonly after?: string | null;
}


/**
 * What every oversight job shares: the fold of the ledger they all read, the clock, and the
 * scoping rule for listings. Each job's resolvers are a small factory over this.
 */
export async function oversightCore(deps: OversightDeps) {
  const now = deps.now ?? (() => new Date());
  const { ledger } = deps;
  const state = emptyState();
  const providerOf = (d: string): string | null => deps.catalog.providerOf(d);
  const projection = ledger.project((e) => applyOversight(state, e, providerOf));
  await projection.sync();
  /** An agency argument (a member's code or full id; retired members stay in the record) as its code, or BAD_USER_INPUT naming the argument. */
  const members = directoryOf(state.members);
  const agency = (argument: string, code: string): string => {
    const member = members.resolve(code);
    if (member === null) throw bad(argument, `unknown agency "${code.slice(0, 64)}": not a member of this exchange`);
    return member;
  };
  const actorOf = (ctx: SubgraphContext): Actor => ({ sub: ctx.caller.sub, agency: ctx.caller.agency });
  const decide = async (ctx: SubgraphContext, step: () => LedgerEvent) => ledger.decide(projection, step, actorOf(ctx));

  /** An agency outside the authority sees what concerns it; asking for another agency's is refused. */
  const scoped = (ctx: SubgraphContext, coordinate: string, f: ListingFilter | null | undefined): ListingFilter => {
    const filter = f ?? {};
    if (seesAll(ctx)) return filter;
    if (filter.agency && filter.agency !== ctx.caller.agency) {
      throw forbidden(coordinate, `${coordinate}: your agency (${ctx.caller.agency}) sees only what concerns it, not ${filter.agency}'s.`, 'Ask the authority (itd) for listings of other agencies.');
    }
    return { ...filter, agency: ctx.caller.agency };
  };
  const checkSpan = (f: ListingFilter): void => {
    isoDate('filter.since', f.since);
    isoDate('filter.until', f.until);
  };
  return { deps, ledger, state, projection, now, providerOf, agency, actorOf, decide, scoped, checkSpan };
}

export type OversightCore = Awaited<ReturnType<typeof oversightCore>>;
