import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { SubgraphContext } from './context.ts';

/** What a subgraph may need from its deployment; subgraphs never read the environment. */
export interface SubgraphEnv {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  readonly supergraphPath: string;
}

/** Each agency's resolvers.ts exports `create` of this type. */
export type SubgraphFactory = (env: SubgraphEnv) => Promise<{
  resolvers: GraphQLResolverMap<SubgraphContext>;
  close?: () => Promise<void>;
}>;
