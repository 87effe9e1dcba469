import { GraphQLError } from 'graphql';
import type { SubgraphContext } from '../kit/context.ts';
import { auditorScope, policyLineWithinParty } from '../../common/auditor-scope.ts';
import type { Declaration } from '../../common/declarations.ts';
import type { AuditReader, SubgraphFactory } from '../kit/factory.ts';
import { catalogResolvers } from './catalog/resolvers.ts';
import { catalogs, referenceCatalog } from './catalog/versions.ts';
import { openLedger } from '../../ledger/ledger.ts';
import { openMembers, seedMembers } from '../../ledger/members.ts';
import { DEFAULT_EXCHANGE_REGION } from '../../common/config-values.ts';
import { memberResolvers } from './members/resolvers.ts';
import type { PolicyHistoryEntry } from '../../ledger/policy-history.ts';
import { workflow } from './workflow/resolvers.ts';
import { oversight } from './oversight/resolvers.ts';
import { oversightCatalog } from './oversight/core.ts';
import { archiveUsage } from './oversight/usage-archive.ts';
import { followUsage } from './oversight/usage-follower.ts';
import { archiveReads, logReads } from './registry/reads.ts';
import { openRegistryService, registryResolvers } from './registry/resolvers.ts';
import { registryMembersOf } from './registry/members.ts';

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
      // The scope goes last, so no filter argument can widen it.
      return read({ ...(args.filter ?? {}), ...auditorScope(ctx.caller.agency) }, { first: args.first, ...(args.after ? { after: args.after } : {}) });
    },
    accessHistory: async (_: unknown, args: { entityKey: string; first: number }, ctx: SubgraphContext) => {
      requireAuditor(ctx, 'Query.accessHistory');
      return (await read({ entityKey: args.entityKey, ...auditorScope(ctx.caller.agency) }, { first: Math.min(Math.max(args.first, 1), 1000) })).records;
    },
  };
}

export const create: SubgraphFactory = async (env) => {
  const ledger = await openLedger({ dataDir: env.dataDir, redisUrl: env.redisUrl, redisPrefix: env.redisPrefix, logSigningKey: env.logSigningKey ?? null, ...(env.witnessUrls !== undefined ? { witnessUrls: env.witnessUrls } : {}) });
  const clock = env.now === undefined ? {} : { now: env.now };
  // The members' directory, seeded with the reference members on a fresh ledger (docs/members.md).
  const members = await openMembers(ledger);
  await seedMembers(ledger, env.region ?? DEFAULT_EXCHANGE_REGION, members);
  const directory = memberResolvers({ ledger, members });
  // The access log is followed here for the findings it shows, and for the statistics
  // unless the archive (ARCHIVE_URL) answers those.
  const accessLog = followUsage(env, (l) => process.stderr.write(`${l}\n`));
  await accessLog.sync();
  const usage = env.archiveUrl !== undefined && env.archiveUrl !== null ? archiveUsage(env.archiveUrl) : accessLog;
  // The registry's home: version 1 is recorded here on the exchange's first start.
  // A check names the agencies that read a field it would break: counted from the same sources as the statistics.
  const reads = env.archiveUrl !== undefined && env.archiveUrl !== null ? archiveReads(env.archiveUrl) : logReads(accessLog);
  const registry = await openRegistryService({ ledger, supergraphPath: env.supergraphPath, seed: true, reads, members: registryMembersOf(members), ...clock, ...(env.policyDir !== undefined ? { policyDir: env.policyDir } : {}) });
  const registryApi = registryResolvers(registry.service);
  // The catalog follows the supergraph versions published on the ledger; before the first,
  // the reference catalog at SUPERGRAPH_PATH.
  const catalog = catalogs(referenceCatalog(env.supergraphPath), () => registry.registry.versions);
  const datasets = {
    get: (id: string) => {
      const d = catalog.current().byId.get(id);
      return d === undefined ? undefined : { coordinate: d.coordinates[0]!, dataset: d.id, class: d.class as Declaration['class'], sensitivity: d.sensitivity as Declaration['sensitivity'], provider: d.provider };
    },
  };
  // Policy revisions as the gateways recorded them, for auditors.
  const policies: PolicyHistoryEntry[] = [];
  const policyProjection = ledger.project((e) => {
    if (e.type === 'policy.installed') policies.push({ ...e.data, at: e.at, seq: e.seq });
  });
  await policyProjection.sync();
  const flow = await workflow({ ledger, dataDir: env.dataDir, datasets, entries: () => catalog.current().entries, members, ...clock });
  const watch = await oversight({ ledger, catalog: oversightCatalog(catalog), sharingRequest: flow.Query.sharingRequest, sharingRequests: flow.Query.sharingRequests, usage, accessLog, ...clock });
  const catalogQueries = await catalogResolvers({ catalog, historyPath: new URL('../../schema/catalog-history.json', import.meta.url).pathname, ledger });
  return {
    async close() {
      registry.close();
      await reads.close();
      policyProjection.stop();
      watch.close();
      if (usage !== accessLog) await usage.close();
      await accessLog.close();
      await flow.close();
      members.stop();
      await ledger.close();
    },
    resolvers: {
      Mutation: { ...flow.Mutation, ...catalogQueries.Mutation, ...watch.Mutation, ...registryApi.Mutation, ...directory.Mutation },
      SupergraphVersionInfo: registryApi.SupergraphVersionInfo,
      Query: {
        ...flow.Query,
        ...registryApi.Query,
        ...directory.Query,
        ...catalogQueries.Query,
        ...watch.Query,
        ...auditResolvers(env.auditReader),
        policyHistory: (_: unknown, args: { first: number }, ctx: SubgraphContext) => {
          requireAuditor(ctx, 'Query.policyHistory');
          // An agency auditor sees the grants, agreements and suspensions its agency is party to, as
          // Query.grants shows them; a revision that changed only other agencies' lines is left out.
          const { party } = auditorScope(ctx.caller.agency);
          const within = (l: string): boolean => policyLineWithinParty(l, party);
          const visible = party === undefined
            ? policies
            : policies.flatMap((p) => {
                const added = p.added.filter(within);
                const removed = p.removed.filter(within);
                const changed = p.added.length + p.removed.length > 0;
                return changed && added.length + removed.length === 0 ? [] : [{ ...p, added, removed }];
              });
          return visible.slice(-Math.min(Math.max(args.first, 1), 1000)).reverse();
        },
        person: (_: unknown, args: { idNumber: string }) => ({ idNumber: args.idNumber }),
      },
    },
  };
};
