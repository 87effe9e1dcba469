import { byYear, referenceResolver } from '../kit/entities.ts';
import type { SubgraphFactory } from '../kit/factory.ts';
import { eebEnterprises, type EebEnterprise } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: {
    Enterprise: {
      __resolveReference: referenceResolver(eebEnterprises, 'uscc'),
      emissions: byYear((e: EebEnterprise) => e.emissionsByYear),
    },
  },
});
