import { referenceResolver } from '../kit/entities.ts';
import type { SubgraphFactory } from '../kit/factory.ts';
import { psbPersons } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: { Person: { __resolveReference: referenceResolver(psbPersons, 'idNumber') } },
});
