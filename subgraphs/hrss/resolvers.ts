import { referenceResolver } from '../shared/entities.ts';
import type { SubgraphFactory } from '../shared/factory.ts';
import { hrssEnterprises, hrssPersons } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: {
    Enterprise: { __resolveReference: referenceResolver(hrssEnterprises, 'uscc') },
    Person: { __resolveReference: referenceResolver(hrssPersons, 'idNumber') },
  },
});
