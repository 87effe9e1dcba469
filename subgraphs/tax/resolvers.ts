import { byYear, referenceResolver } from '../kit/entities.ts';
import type { SubgraphFactory } from '../kit/factory.ts';
import { taxEnterprises, type TaxEnterprise } from './data.ts';

export const create: SubgraphFactory = async () => ({
  resolvers: {
    Enterprise: {
      __resolveReference: referenceResolver(taxEnterprises, 'uscc'),
      annualTaxPaid: byYear((e: TaxEnterprise) => e.annualTaxPaidByYear),
    },
  },
});
