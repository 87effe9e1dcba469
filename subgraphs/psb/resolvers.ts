import { referenceResolver } from '../shared/entities.ts';
import type { SubgraphFactory } from '../shared/factory.ts';
import { psbPersons } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: { Person: { __resolveReference: referenceResolver(psbPersons, 'idNumber') } },
});
