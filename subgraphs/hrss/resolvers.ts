import { referenceResolver } from '../kit/entities.ts';
import type { SubgraphFactory } from '../kit/factory.ts';
import { hrssEnterprises, hrssPersons } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: {
    Enterprise: { __resolveReference: referenceResolver(hrssEnterprises, 'uscc') },
    Person: { __resolveReference: referenceResolver(hrssPersons, 'idNumber') },
  },
});
