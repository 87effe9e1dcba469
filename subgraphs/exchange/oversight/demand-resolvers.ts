import purposes from '../../../schema/purposes.json' with { type: 'json' };
import type { SubgraphContext } from '../../kit/context.ts';
import { ids } from '../../../ledger/events.ts';
import { type OversightCore, type PageArgs } from './core.ts';
import { page } from './paging.ts';
import { bad, forbidden, requireCoordinator, written } from './scope.ts';
import type { Demand } from './state.ts';
import { oversightViews } from './views.ts';

/**
 * The demand register (Art. 12–13): needs an agency records, matched to datasets or assigned to
 * the holder; and requests for uncatalogued data (R-21), needs addressed to the agency that holds
 * the data, which answers within the sharing-request deadline.
 */
export function demandResolvers(core: OversightCore) {
  const { deps, ledger, state, projection, now, providerOf, agency, actorOf, decide, scoped } = core;
  const { demandView } = oversightViews(core);
  const demandOf = (id: string): Demand => {
    const d = state.demands.get(id);
    if (d === undefined) throw bad('id', `no demand ${id} in the register`);
    if (d.outcome.kind !== 'OPEN') throw bad('id', `demand ${id} is already ${d.outcome.kind}`);
    if (d.provider !== null) throw bad('id', `demand ${id} is addressed to ${d.provider}, which answers it (answerDemand)`);
    return d;
  };
  /** The next answer of the addressed agency to demand `id`, or why there is none. */
  const answerOf = (id: string, ctx: SubgraphContext, willCatalog: boolean, text: string, proposal: string | null) => {
    const d = state.demands.get(id);
    if (d === undefined || d.provider === null || (ctx.caller.agency !== d.agency && ctx.caller.agency !== d.provider)) throw bad('id', `no request for uncatalogued data ${id} that your agency is party to`);
    if (ctx.caller.agency !== d.provider) throw forbidden('Mutation.answerDemand', `only ${d.provider}, to which ${id} is addressed, answers it`, `Wait for ${d.provider}'s answer; past its deadline, complain to the authority (fileComplaint).`);
    if (proposal !== null) {
      const p = state.proposals.get(proposal);
      if (p === undefined || p.member !== d.provider) throw bad('proposal', `no subgraph proposal ${proposal} of ${d.provider}: propose the subgraph first (registry propose), then name its id`);
      if (!willCatalog) throw bad('proposal', 'a refusal names no proposal');
    }
    if (d.answer !== null) {
      // One answer; a "will catalog" answer may later name the proposal that does it.
      if (!(d.answer.willCatalog && d.answer.proposal === null && willCatalog && proposal !== null)) {
        throw bad('id', `demand ${id} is already answered (${d.answer.willCatalog ? 'will catalog' : 'refused'}${d.answer.proposal === null ? '' : `, proposal ${d.answer.proposal}`})`);
      }
    }
    return { type: 'demand.answered' as const, data: { id, willCatalog, answer: text, proposal } };
  };
  return {
    Query: {
      demands: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.demands', args.filter);
        await projection.sync();
        const all = [...state.demands.values()]
          .filter((d) => !f.agency || d.agency === f.agency || d.provider === f.agency || (d.outcome.kind === 'ASSIGNED' && d.outcome.holder === f.agency) || (d.outcome.kind === 'MATCHED' && d.outcome.provider === f.agency))
          .filter((d) => !f.dataset || (d.outcome.kind === 'MATCHED' && d.outcome.datasets.includes(f.dataset)))
          .map(demandView)
          .filter((d) => !f.state || d.status === f.state);
        return page(all, args.first, args.after);
      },
    },
    Mutation: {
      recordDemand: async (_: unknown, args: { data: string; duty: string; purpose: string; legalBasis: string; frequency: string }, ctx: SubgraphContext) => {
        const demand = {
          agency: ctx.caller.agency,
          data: written('data', args.data),
          duty: written('duty', args.duty),
          purpose: written('purpose', args.purpose),
          legalBasis: written('legalBasis', args.legalBasis),
          frequency: written('frequency', args.frequency),
          recordedAt: now().toISOString(),
        };
        const e = await ledger.record({ type: 'demand.recorded', data: { demand } }, actorOf(ctx));
        return demandView(state.demands.get(ids.demand(e.seq))!);
      },
      requestUncatalogued: async (
        _: unknown,
        args: { provider: string; data: string; purpose: string; legalBasis: string; justification: string; frequency: string },
        ctx: SubgraphContext,
      ) => {
        const provider = agency('provider', args.provider);
        if (provider === ctx.caller.agency) throw bad('provider', 'an agency reads its own data without a request');
        // A suspended or retired member answers nothing: the need goes to the authority instead.
        const status = state.members.get(provider)?.status;
        if (status !== 'ACTIVE') throw bad('provider', `${provider} is ${status?.toLowerCase() ?? 'not active'} and cannot answer: record the need in the demand register (recordDemand) for the authority to assign`);
        if (!Object.hasOwn(purposes, args.purpose)) throw bad('purpose', `unknown purpose code "${args.purpose}"`);
        const demand = {
          agency: ctx.caller.agency,
          data: written('data', args.data),
          duty: written('justification', args.justification),
          purpose: args.purpose,
          legalBasis: written('legalBasis', args.legalBasis),
          frequency: written('frequency', args.frequency),
          recordedAt: now().toISOString(),
          provider,
        };
        const e = await ledger.record({ type: 'demand.recorded', data: { demand } }, actorOf(ctx));
        return demandView(state.demands.get(ids.demand(e.seq))!);
      },
      answerDemand: async (_: unknown, args: { id: string; willCatalog: boolean; answer: string; proposal?: string | null }, ctx: SubgraphContext) => {
        const text = written('answer', args.answer);
        const proposal = args.proposal?.trim() || null;
        await projection.sync();
        await decide(ctx, () => answerOf(args.id, ctx, args.willCatalog, text, proposal));
        return demandView(state.demands.get(args.id)!);
      },
      matchDemand: async (_: unknown, args: { id: string; datasets: string[]; note?: string | null }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.matchDemand');
        if (args.datasets.length === 0) throw bad('datasets', 'name the catalogued datasets that meet the need');
        const providers = new Set<string>();
        for (const d of args.datasets) {
          const p = providerOf(d);
          if (p === null || !deps.catalog.catalogued(d)) throw bad('datasets', `"${d}" is not a catalogued dataset: assign the demand to the holding agency instead`);
          providers.add(p);
        }
        if (providers.size !== 1) throw bad('datasets', 'match one provider\'s datasets at a time: the agency files one sharing request per provider');
        const provider = [...providers][0]!;
        await decide(ctx, () => {
          demandOf(args.id);
          return { type: 'demand.matched', data: { id: args.id, provider, datasets: [...new Set(args.datasets)], note: args.note?.trim() ?? '' } };
        });
        return demandView(state.demands.get(args.id)!);
      },
      assignDemand: async (_: unknown, args: { id: string; holder: string; note: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.assignDemand');
        const holder = core.agency('holder', args.holder);
        const note = written('note', args.note);
        await decide(ctx, () => {
          const d = demandOf(args.id);
          if (d.agency === holder) throw bad('holder', `${holder} recorded the need itself: assign it to the agency that holds the data`);
          return { type: 'demand.assigned', data: { id: args.id, holder, note } };
        });
        return demandView(state.demands.get(args.id)!);
      },
    },
  };
}
