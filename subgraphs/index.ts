import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import type { SubgraphDefinition } from './kit/server.ts';
import type { SubgraphFactory } from './kit/factory.ts';
import { subgraphInfo } from './registry.ts';

export type { SubgraphEnv } from './kit/factory.ts';

/** Loads one agency's subgraph: its schema file and its resolvers over its data. */
export async function loadSubgraph(name: string, env: Parameters<SubgraphFactory>[0]): Promise<SubgraphDefinition> {
  if (subgraphInfo(name) === undefined) throw new Error(`unknown subgraph "${name}"`);
  const typeDefs = parse(readFileSync(new URL(`./${name}/schema.graphql`, import.meta.url), 'utf8'));
  const mod = (await import(`./${name}/resolvers.ts`)) as { create: SubgraphFactory };
  const { resolvers, close } = await mod.create(env);
  return { name, typeDefs, resolvers, ...(close ? { close } : {}) };
}
