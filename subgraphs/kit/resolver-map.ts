import type { buildSubgraphSchema } from '@apollo/subgraph';
import type { DocumentNode } from 'graphql';

/**
 * The resolver map `buildSubgraphSchema` takes, read off its public signature: @apollo/subgraph
 * exports the function but not the type. Resolvers name the context they expect themselves.
 */
export type ResolverMap = NonNullable<Exclude<Extract<Parameters<typeof buildSubgraphSchema>[0], readonly unknown[]>[number], DocumentNode>['resolvers']>;
