import type { SubgraphContext } from '../kit/context.ts';
import { referenceResolver } from '../kit/entities.ts';
import type { SubgraphFactory } from '../kit/factory.ts';
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
