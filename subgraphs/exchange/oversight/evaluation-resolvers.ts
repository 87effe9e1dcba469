import type { SubgraphContext } from '../../kit/context.ts';
import { ids } from '../../../ledger/events.ts';
import type { OversightCore } from './core.ts';
import { evaluate, EVALUATION_METHOD } from './evaluation.ts';
import { bad, requireCoordinator, seesAll, written } from './scope.ts';

/** The annual evaluation: the draft from the ledger, and published versions that are only ever corrected. */
export function evaluationResolvers(core: OversightCore) {
  const { deps, state, projection, now, decide } = core;
  return {
    Query: {
      annualEvaluation: async (_: unknown, args: { year: number }, ctx: SubgraphContext) => {
        if (!Number.isInteger(args.year) || args.year < 2000 || args.year > 2100) throw bad('year', `year must be a year, got ${args.year}`);
        await projection.sync();
        const mine = (rows: readonly { agency: string }[]) => (seesAll(ctx) ? rows : rows.filter((r) => r.agency === ctx.caller.agency));
        const versions = [...state.evaluations.values()].filter((v) => v.year === args.year).map((v) => ({ ...v, rows: mine(v.rows) }));
        const current = versions.find((v) => v.correctedBy === null) ?? null;
        return { year: args.year, method: EVALUATION_METHOD, draft: mine(evaluate(state, deps.catalog.at, args.year, now())), published: current, versions };
      },
    },
    Mutation: {
      publishEvaluation: async (_: unknown, args: { year: number; corrects?: string | null; note?: string | null }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.publishEvaluation');
        const e = await decide(ctx, () => {
          const current = [...state.evaluations.values()].find((v) => v.year === args.year && v.correctedBy === null);
          const corrects = args.corrects ?? null;
          // Published figures never change: a correction is a new version naming the one it replaces.
          if (current !== undefined && corrects !== current.id) throw bad('corrects', `the ${args.year} evaluation is published as ${current.id}; publish a correction with corrects: "${current.id}" and a note`);
          if (current === undefined && corrects !== null) throw bad('corrects', `no published ${args.year} evaluation ${corrects} to correct`);
          const note = corrects === null ? (args.note?.trim() ?? '') : written('note', args.note);
          return { type: 'evaluation.published', data: { year: args.year, method: EVALUATION_METHOD, rows: evaluate(state, deps.catalog.at, args.year, now()), corrects, note } };
        });
        return state.evaluations.get(ids.evaluation(args.year, e.seq))!;
      },
    },
  };
}
