import { referenceResolver } from '../kit/entities.ts';
import type { SubgraphFactory } from '../kit/factory.ts';
import { civilPersons } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: { Person: { __resolveReference: referenceResolver(civilPersons, 'idNumber') } },
});
