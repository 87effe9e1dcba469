import type { SubgraphContext } from '../shared/context.ts';
import { referenceResolver } from '../shared/entities.ts';
import type { SubgraphFactory } from '../shared/factory.ts';
import { amrEnterprises } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: {
    Query: {
      enterprise: async (_: unknown, args: { uscc: string }, ctx: SubgraphContext) => {
        const row = await ctx.load(amrEnterprises, args.uscc);
        return row === undefined ? null : { ...row, uscc: args.uscc };
      },
      enterprises: (_: unknown, args: { uscc: string[] }, ctx: SubgraphContext) =>
        Promise.all(args.uscc.map(async (uscc) => {
          const row = await ctx.load(amrEnterprises, uscc);
          return row === undefined ? null : { ...row, uscc };
        })),
    },
    Enterprise: { __resolveReference: referenceResolver(amrEnterprises, 'uscc') },
  },
});
