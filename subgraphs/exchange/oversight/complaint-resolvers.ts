import type { SubgraphContext } from '../../kit/context.ts';
import type { ComplaintGround } from '../../../ledger/events.ts';
import { ids } from '../../../ledger/events.ts';
import { workingDaysLeft } from '../workdays.ts';
import { type OversightCore, type PageArgs } from './core.ts';
import { page } from './paging.ts';
import { bad, forbidden, requireCoordinator, seesAll, written } from './scope.ts';
import type { Complaint } from './state.ts';
import { oversightViews } from './views.ts';

const GROUNDS: readonly ComplaintGround[] = ['REFUSED', 'LATE', 'MISUSE'];

/** Complaints: filed by one agency against another, answered by it, decided by the authority. */
export function complaintResolvers(core: OversightCore) {
  const { state, projection, now, decide, scoped } = core;
  const { complaintView } = oversightViews(core);
  const complaintOf = (ctx: SubgraphContext, id: string): Complaint => {
    const c = state.complaints.get(id);
    if (c === undefined || !(seesAll(ctx) || ctx.caller.agency === c.complainant || ctx.caller.agency === c.against)) throw bad('id', `no complaint ${id} that your agency is party to`);
    return c;
  };
  return {
    Query: {
      complaints: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.complaints', args.filter);
        await projection.sync();
        const all = [...state.complaints.values()]
          .filter((c) => !f.agency || c.complainant === f.agency || c.against === f.agency)
          .map(complaintView)
          .filter((c) => !f.state || c.status === f.state);
        return page(all, args.first, args.after);
      },
      complaint: async (_: unknown, args: { id: string }, ctx: SubgraphContext) => {
        await projection.sync();
        return complaintView(complaintOf(ctx, args.id));
      },
    },
    Mutation: {
      fileComplaint: async (_: unknown, args: { against: string; ground: ComplaintGround; description: string; requestId?: string | null }, ctx: SubgraphContext) => {
        const against = core.agency('against', args.against);
        if (against === ctx.caller.agency) throw bad('against', 'an agency does not complain against itself');
        if (!GROUNDS.includes(args.ground)) throw bad('ground', `ground must be one of ${GROUNDS.join(', ')}`);
        const description = written('description', args.description);
        const e = await decide(ctx, () => {
          const requestId = args.requestId ?? null;
          if (requestId !== null) {
            const r = state.requests.get(requestId);
            const parties = r === undefined ? [] : [r.consumer, r.provider];
            if (!parties.includes(ctx.caller.agency) || !parties.includes(against)) throw bad('requestId', `no sharing request ${requestId} between your agency and ${against}`);
          }
          return { type: 'complaint.filed', data: { complaint: { complainant: ctx.caller.agency, against, ground: args.ground, description, requestId, filedAt: now().toISOString() } } };
        });
        return complaintView(state.complaints.get(ids.complaint(e.seq))!);
      },
      answerComplaint: async (_: unknown, args: { id: string; answer: string }, ctx: SubgraphContext) => {
        const answer = written('answer', args.answer);
        await decide(ctx, () => {
          const c = complaintOf(ctx, args.id);
          if (c.against !== ctx.caller.agency) throw forbidden('Mutation.answerComplaint', `only ${c.against}, the agency complained against, answers complaint ${c.id}`, `Leave the answer to ${c.against}.`);
          if (c.answer !== null || c.decision !== null) throw bad('id', `complaint ${c.id} is already ${c.decision !== null ? 'decided' : 'answered'}`);
          return { type: 'complaint.answered', data: { id: c.id, answer } };
        });
        return complaintView(state.complaints.get(args.id)!);
      },
      decideComplaint: async (_: unknown, args: { id: string; upheld: boolean; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.decideComplaint');
        const reasons = written('reasons', args.reasons);
        await decide(ctx, () => {
          const c = complaintOf(ctx, args.id);
          if (c.decision !== null) throw bad('id', `complaint ${c.id} is already decided`);
          // The other party is heard first, unless its time to answer has run out.
          if (c.answer === null && workingDaysLeft(now(), c.answerDueBy) > 0) throw bad('id', `complaint ${c.id} awaits ${c.against}'s answer until ${c.answerDueBy}`);
          return { type: 'complaint.decided', data: { id: c.id, upheld: args.upheld, reasons } };
        });
        return complaintView(state.complaints.get(args.id)!);
      },
    },
  };
}
