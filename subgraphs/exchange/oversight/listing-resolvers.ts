import type { SubgraphContext } from '../../kit/context.ts';
import type { OversightCore, PageArgs } from './core.ts';
import { inboxOf } from './inbox.ts';
import { agreementMatches, agreementState, grantMatches, grantState, requestMatches, type ListingFilter } from './listings.ts';
import { page } from './paging.ts';
import { bad, forbidden, seesAll } from './scope.ts';

/** Listings of requests, grants and agreements, and each agency's inbox. */
export function listingResolvers(core: OversightCore) {
  const { deps, state, projection, now, scoped, checkSpan } = core;
  return {
    Query: {
      /** The workflow's listing, widened: role ALL for the authority, filters and paging for everyone. */
      sharingRequests: async (
        parent: unknown,
        args: { role: 'CONSUMER' | 'PROVIDER' | 'ALL'; status?: string | null; agency?: string | null; dataset?: string | null; since?: string | null; until?: string | null; first?: number | null; after?: string | null },
        ctx: SubgraphContext,
      ) => {
        const f: ListingFilter = { agency: args.agency, dataset: args.dataset, state: args.status, since: args.since, until: args.until };
        checkSpan(f);
        await projection.sync();
        let list: readonly { id: string }[];
        if (args.role === 'ALL') {
          if (!seesAll(ctx)) throw forbidden('Query.sharingRequests', 'sharingRequests(role: ALL) is for coordinators and auditors of the authority (itd); list your own with role CONSUMER or PROVIDER.', 'Use role CONSUMER or PROVIDER.');
          list = [...state.requests.values()].filter((r) => requestMatches(r, f, now())).map((r) => deps.sharingRequest(parent, { id: r.id }, ctx) as { id: string });
        } else {
          const mine = deps.sharingRequests(parent, { role: args.role, status: args.status ?? null }, ctx);
          list = mine.filter((v) => {
            const r = state.requests.get(v.id);
            return r !== undefined && requestMatches(r, { ...f, state: null }, now());
          });
        }
        const from = args.after ? list.findIndex((v) => v.id === args.after) + 1 : 0;
        if (args.after && from === 0) throw bad('after', `after must be the id of a request in this listing, got "${args.after}"`);
        // Without `first` the listing is whole, as it always was.
        return args.first === null || args.first === undefined ? list.slice(from) : page(list.slice(from), args.first, null).items;
      },
      grants: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.grants', args.filter);
        checkSpan(f);
        await projection.sync();
        const t = now();
        const all = [...state.grants.values()].filter((g) => grantMatches(g, f, t)).sort((a, b) => a.seq - b.seq);
        const p = page(all, args.first, args.after);
        return {
          ...p,
          items: p.items.map((g) => ({ ...g.grant, provider: g.provider, state: grantState(g, t), issuedAt: g.issuedAt, revokedAt: g.revoked?.at ?? null, revocationReasons: g.revoked?.reasons ?? null })),
        };
      },
      agreements: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.agreements', args.filter);
        checkSpan(f);
        await projection.sync();
        const t = now();
        const all = [...state.agreements.values()].filter((a) => agreementMatches(a, f, t)).sort((a, b) => a.seq - b.seq);
        const p = page(all, args.first, args.after);
        return { ...p, items: p.items.map((a) => ({ ...a.agreement, state: agreementState(a, t), registeredAt: a.registeredAt, revokedAt: a.revoked?.at ?? null })) };
      },
      inbox: async (_: unknown, __: unknown, ctx: SubgraphContext) => {
        await projection.sync();
        const items = inboxOf(state, ctx.caller.agency, now());
        return { agency: ctx.caller.agency, items, dueSoon: items.filter((i) => i.dueSoon).length };
      },
    },
  };
}
