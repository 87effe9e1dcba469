import type { SubgraphContext } from '../../kit/context.ts';
import type { OversightCore } from './core.ts';
import { bad, isoDate, seesAll } from './scope.ts';
import type { UsageDimension } from './usage.ts';

const DIMENSIONS: readonly UsageDimension[] = ['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE', 'QUARTER'];

/** Usage statistics, from the access log's running counts or the archive. */
export function usageResolvers(core: OversightCore) {
  const { deps } = core;
  return {
    Query: {
      usageStatistics: async (_: unknown, args: { from: string; to: string; groupBy: UsageDimension[] }, ctx: SubgraphContext) => {
        const from = isoDate('from', args.from)!.slice(0, 10);
        const to = isoDate('to', args.to)!.slice(0, 10);
        if (from > to) throw bad('to', `to (${to}) is before from (${from})`);
        for (const d of args.groupBy) if (!DIMENSIONS.includes(d)) throw bad('groupBy', `groupBy takes ${DIMENSIONS.join(', ')}`);
        if (deps.usage === undefined) return [];
        return deps.usage.rows({ from, to, groupBy: args.groupBy, agency: seesAll(ctx) ? null : ctx.caller.agency });
      },
    },
  };
}
