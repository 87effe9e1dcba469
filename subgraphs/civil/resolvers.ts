import { referenceResolver } from '../shared/entities.ts';
import type { SubgraphFactory } from '../shared/factory.ts';
import { civilPersons } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: { Person: { __resolveReference: referenceResolver(civilPersons, 'idNumber') } },
});
