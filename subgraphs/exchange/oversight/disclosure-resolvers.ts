import type { SubgraphContext } from '../../kit/context.ts';
import { ids } from '../../../ledger/events.ts';
import { cstDate } from '../workdays.ts';
import { type OversightCore } from './core.ts';
import { bad, forbidden, isCoordinator, isoDate, written } from './scope.ts';

/** Passing shared data on: disclosures recorded, and the provider's consent to them. */
export function disclosureResolvers(core: OversightCore) {
  const { ledger, state, now, providerOf, actorOf } = core;
  return {
    Mutation: {
      recordDisclosure: async (_: unknown, args: { dataset: string; recipient: string; description: string; disclosedOn: string; consumer?: string | null }, ctx: SubgraphContext) => {
        const provider = providerOf(args.dataset);
        if (provider === null) throw bad('dataset', `unknown dataset "${args.dataset}"`);
        const consumer = core.agency('consumer', args.consumer ?? ctx.caller.agency);
        // An agency records its own disclosures; the provider or the authority reports one it found.
        if (consumer !== ctx.caller.agency && ctx.caller.agency !== provider && !isCoordinator(ctx)) {
          throw forbidden('Mutation.recordDisclosure', `your agency (${ctx.caller.agency}) records its own disclosures, not ${consumer}'s; ${provider}, the provider, or the authority reports others.`, 'Tell the provider or the authority (itd).');
        }
        if (consumer === provider) throw bad('consumer', `${consumer} provides ${args.dataset}: passing on its own data needs no consent`);
        const disclosedOn = isoDate('disclosedOn', args.disclosedOn)!.slice(0, 10);
        if (disclosedOn > cstDate(now())) throw bad('disclosedOn', `disclosedOn must not be in the future, got "${args.disclosedOn}"`);
        const disclosure = { consumer, dataset: args.dataset, recipient: written('recipient', args.recipient), description: written('description', args.description), disclosedOn };
        const e = await ledger.record({ type: 'disclosure.recorded', data: { disclosure } }, actorOf(ctx));
        return state.disclosures.get(ids.disclosure(e.seq))!;
      },
      giveConsent: async (_: unknown, args: { consumer: string; dataset: string; recipient: string; note: string }, ctx: SubgraphContext) => {
        const provider = providerOf(args.dataset);
        if (provider === null) throw bad('dataset', `unknown dataset "${args.dataset}"`);
        if (ctx.caller.agency !== provider) throw forbidden('Mutation.giveConsent', `only ${provider}, the provider of ${args.dataset}, consents to passing it on.`, `Ask ${provider} for its consent.`);
        const consent = { provider, consumer: core.agency('consumer', args.consumer), dataset: args.dataset, recipient: written('recipient', args.recipient), note: written('note', args.note) };
        const e = await ledger.record({ type: 'consent.given', data: { consent } }, actorOf(ctx));
        return state.consents.get(ids.consent(e.seq))!;
      },
    },
  };
}
