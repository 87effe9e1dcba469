import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { providerOf, readDeclarations, type Declaration } from '../shared/declarations.ts';
import { openEventLog } from './events.ts';
import { openGrantStore } from './grants/store.ts';
import { workflow } from './workflow/resolvers.ts';
import type { SubgraphContext } from '../shared/context.ts';
import type { AuditReader, SubgraphFactory } from '../shared/factory.ts';
import { GraphQLError } from 'graphql';
import { CONFIRMING_AGENCIES, EMISSION_TOTALS, SEED_CONFIRMATIONS } from './data.ts';

interface CatalogDataset {
  readonly id: string;
  readonly provider: string;
  readonly class: string;
  readonly sensitivity: string | null;
  readonly coordinates: string[];
}

/** Datasets as the supergraph declares them: each catalogued exactly once. */
function datasetsOf(supergraphPath: string): CatalogDataset[] {
  const { declarations } = readDeclarations(parse(readFileSync(supergraphPath, 'utf8')), 'supergraph');
  const byId = new Map<string, CatalogDataset>();
  for (const d of declarations) {
    const ds = byId.get(d.dataset) ?? { id: d.dataset, provider: providerOf(d.dataset), class: d.class, sensitivity: d.sensitivity, coordinates: [] };
    ds.coordinates.push(d.coordinate);
    byId.set(d.dataset, ds);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** R-E11: totals stay unpublished until eeb, drc and stats have each confirmed them. */
function unpublished(year: number, region: string, confirmed: readonly string[], missing: readonly string[]): GraphQLError {
  return new GraphQLError(`Emission totals for ${region} in ${year} are not published yet: awaiting confirmation by ${missing.join(', ')}.`, {
    extensions: {
      code: 'FORBIDDEN',
      sharing: {
        coordinate: 'Query.regionEmissionTotals',
        dataset: 'eeb.emission-totals',
        provider: 'eeb',
        class: 'UNCONDITIONAL',
        reason: 'UNPUBLISHED',
        remedy: `Totals are published once eeb, drc and stats have each confirmed them (R-E11); confirmed so far: ${confirmed.length > 0 ? confirmed.join(', ') : 'none'}.`,
      },
    },
  });
}

/** Auditor-only fields: anyone else gets FORBIDDEN, and the gateway records the refusal. */
function requireAuditor(ctx: SubgraphContext, coordinate: string): void {
  if (ctx.caller.roles.includes('auditor')) return;
  throw new GraphQLError(`${coordinate} is for principals with role auditor.`, {
    extensions: {
      code: 'FORBIDDEN',
      sharing: { coordinate, dataset: 'itd.audit-log', provider: 'itd', class: 'UNCONDITIONAL', reason: 'ROLE_REQUIRED', remedy: 'Ask your agency for a token with role auditor.' },
    },
  });
}

function auditResolvers(reader: AuditReader | undefined) {
  const read: AuditReader = reader ?? (async () => ({ records: [], next: null }));
  return {
    auditRecords: async (_: unknown, args: { filter?: Record<string, string | undefined> | null; first: number; after?: string | null }, ctx: SubgraphContext) => {
      requireAuditor(ctx, 'Query.auditRecords');
      if (args.first < 1 || args.first > 1000) throw new GraphQLError('first must be between 1 and 1000', { extensions: { code: 'BAD_USER_INPUT', argument: 'first' } });
      return read({ ...(args.filter ?? {}) }, { first: args.first, ...(args.after ? { after: args.after } : {}) });
    },
    accessHistory: async (_: unknown, args: { entityKey: string; first: number }, ctx: SubgraphContext) => {
      requireAuditor(ctx, 'Query.accessHistory');
      return (await read({ entityKey: args.entityKey }, { first: Math.min(Math.max(args.first, 1), 1000) })).records;
    },
  };
}

export const create: SubgraphFactory = async (env) => {
  const catalog = datasetsOf(env.supergraphPath);
  const events = await openEventLog({ dataDir: env.dataDir, redisUrl: env.redisUrl, prefix: env.redisPrefix });
  const grants = await openGrantStore({ dataDir: env.dataDir, redisUrl: env.redisUrl, redisPrefix: env.redisPrefix });
  const datasets = new Map(catalog.map((d) => [d.id, { coordinate: d.coordinates[0]!, dataset: d.id, class: d.class as Declaration['class'], sensitivity: d.sensitivity as Declaration['sensitivity'], provider: d.provider }]));
  const flow = await workflow({ events, grants, datasets });
  return {
    async close() {
      await events.close();
      await grants.close();
    },
    resolvers: {
      Mutation: flow.Mutation,
      Query: {
        ...flow.Query,
        ...auditResolvers(env.auditReader),
        person: (_: unknown, args: { idNumber: string }) => ({ idNumber: args.idNumber }),
        catalog: () => catalog,
        regionEmissionTotals: (_: unknown, args: { year: number; region: string }) => {
          const totals = EMISSION_TOTALS.find((t) => t.year === args.year && t.region === args.region);
          if (totals === undefined) return null;
          const confirmedBy = SEED_CONFIRMATIONS.filter((c) => c.year === args.year && c.region === args.region).map((c) => c.agency);
          const missing = CONFIRMING_AGENCIES.filter((a) => !confirmedBy.includes(a));
          if (missing.length > 0) throw unpublished(args.year, args.region, confirmedBy, missing);
          return { ...totals, confirmedBy };
        },
      },
    },
  };
};
