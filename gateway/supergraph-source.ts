import { createHash } from 'node:crypto';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { Kind, parse, type GraphQLSchema } from 'graphql';
import type { SupergraphVersion } from '../ledger/events.ts';
import type { Registry } from '../ledger/registry.ts';
import type { Logger } from './log.ts';
import { REFERENCE_ENTRIES } from '../common/catalogued-purposes.ts';
import { readCatalog, sameCatalog } from './sharing/catalog.ts';
import type { Catalog } from './sharing/types.ts';

/**
 * Supergraph versions (docs/operations.md): the gateway serves the newest `supergraph.published`
 * of the authority's ledger, or the file at SUPERGRAPH_PATH while none is published. A new version
 * reaches ApolloGateway through its `supergraphSdl` hook; each schema ApolloGateway then announces
 * is tied here to the version it was built from, so every layer of the request path finds the
 * version a request runs on from the schema Apollo validated it against.
 */

/** What the gateway reads of the registry (ledger/registry.ts): the newest published version, kept current from the ledger. */
export type PublishedVersions = Pick<Registry, 'current' | 'sync' | 'stop'>;

/** A supergraph the gateway can serve: checked, with its catalog read. */
export interface ServedVersion {
  /** The published version's number; null for the file at SUPERGRAPH_PATH. */
  readonly version: number | null;
  /** sha256 (hex) of the SDL. */
  readonly hash: string;
  readonly sdl: string;
  readonly catalog: Catalog;
  /** The subgraphs it routes to, by name (what /health probes). */
  readonly subgraphs: readonly string[];
  readonly rollbackOf: number | null;
}

/** The subgraph names of a supergraph: its `join__Graph` values' `@join__graph(name:)`. */
function subgraphNames(sdl: string): string[] {
  const names: string[] = [];
  for (const def of parse(sdl).definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const v of def.values ?? []) {
      const name = v.directives?.find((d) => d.name.value === 'join__graph')?.arguments?.find((a) => a.name.value === 'name')?.value;
      if (name?.kind === Kind.STRING) names.push(name.value);
    }
  }
  return names;
}

export const sdlHash = (sdl: string): string => createHash('sha256').update(sdl).digest('hex');

/**
 * A published version made ready to serve; throws with what is wrong with it. When its catalog says
 * what `previous`'s does, it keeps that very catalog, so the policy need not be rebuilt and cached
 * decisions stay.
 */
export function servedVersion(v: SupergraphVersion, previous?: ServedVersion): ServedVersion {
  if (typeof v.supergraphSdl !== 'string' || sdlHash(v.supergraphSdl) !== v.hash) throw new Error('its hash does not match its supergraph SDL');
  // The version's catalog entries say which purposes its grants may name (R-13, R-24); a dataset
  // it has no entry for keeps the reference entry, as the authority's catalog does.
  const catalog = readCatalog(v.supergraphSdl, { ...REFERENCE_ENTRIES, ...v.catalog });
  return {
    version: v.version,
    hash: v.hash,
    sdl: v.supergraphSdl,
    catalog: previous !== undefined && sameCatalog(previous.catalog, catalog) ? previous.catalog : catalog,
    subgraphs: subgraphNames(v.supergraphSdl),
    rollbackOf: v.rollbackOf,
  };
}

export function fileVersion(sdl: string): ServedVersion {
  return { version: null, hash: sdlHash(sdl), sdl, catalog: readCatalog(sdl), subgraphs: subgraphNames(sdl), rollbackOf: null };
}

/** What the header `x-supergraph-version` says: the version number, or `file`. */
export function versionLabel(v: ServedVersion): string {
  return v.version === null ? 'file' : String(v.version);
}

/** A published version this gateway refused, and why. */
export interface RefusedVersion {
  readonly version: number;
  readonly reason: string;
  readonly at: string;
}

/**
 * The versions this gateway has loaded, by the API schema ApolloGateway built from each. A version
 * is offered before ApolloGateway is told of it, and bound to the schema when ApolloGateway
 * announces it (synchronously, before any request can be validated against that schema).
 */
export class SupergraphVersions {
  private readonly offered = new Map<string, ServedVersion>();
  private readonly bySchema = new WeakMap<GraphQLSchema, ServedVersion>();
  private current: ServedVersion;
  private currentSchema: GraphQLSchema | null = null;
  private refused: RefusedVersion | null = null;

  constructor(initial: ServedVersion) {
    this.current = initial;
    this.offered.set(initial.hash, initial);
  }

  /** About to be handed to ApolloGateway. */
  offer(v: ServedVersion): void {
    this.offered.set(v.hash, v);
  }

  /** ApolloGateway's onSchemaLoadOrUpdate: `apiSchema` was built from `coreSupergraphSdl`. */
  loaded(apiSchema: GraphQLSchema, coreSupergraphSdl: string): void {
    const hash = sdlHash(coreSupergraphSdl);
    const v = this.offered.get(hash);
    if (v === undefined) throw new Error(`supergraph ${hash.slice(0, 12)} was loaded without being offered`);
    this.offered.clear();
    this.bySchema.set(apiSchema, v);
    this.current = v;
    this.currentSchema = apiSchema;
  }

  /** The same SDL published again under a new number: the schema stays, its number moves. */
  renumbered(v: ServedVersion): void {
    if (this.currentSchema !== null) this.bySchema.set(this.currentSchema, v);
    this.current = v;
  }

  /** The version a request validated against `schema` runs on. */
  of(schema: GraphQLSchema): ServedVersion {
    return this.bySchema.get(schema) ?? this.current;
  }

  served(): ServedVersion {
    return this.current;
  }

  refuse(r: RefusedVersion | null): void {
    this.refused = r;
  }

  /** What /health tells the authority's operators. */
  health(): { version: number | null; hash: string; source: 'ledger' | 'file'; rollbackOf: number | null; newestRefused: RefusedVersion | null } {
    const v = this.current;
    return { version: v.version, hash: v.hash, source: v.version === null ? 'file' : 'ledger', rollbackOf: v.rollbackOf, newestRefused: this.refused };
  }
}

export interface SupergraphSourceOptions {
  readonly published: PublishedVersions;
  readonly versions: SupergraphVersions;
  /** Readies the rest of the gateway for a version (the sharing policy's catalog); throws to refuse it. */
  readonly prepare: (next: ServedVersion) => Promise<void>;
  /** Undoes `prepare` when ApolloGateway refuses the version after all. */
  readonly restore: (current: ServedVersion) => Promise<void>;
  /** The newest published version already looked at when the gateway started (null: none). */
  readonly startedFrom: SupergraphVersion | null;
  readonly log: Logger;
  /** How often the fold is looked at; the ledger's follower itself reads new events about every second. */
  readonly pollMs?: number;
}

/** Logs and remembers a published version that does not load; the gateway keeps the one it serves. */
export function refuseVersion(versions: SupergraphVersions, log: Logger, version: number, e: unknown): void {
  const reason = e instanceof Error ? e.message.split('\n', 1)[0]!.slice(0, 500) : String(e);
  versions.refuse({ version, reason, at: new Date().toISOString() });
  log.warn(`supergraph version ${version} refused, still serving version ${versionLabel(versions.served())}: ${reason}`);
}

/**
 * ApolloGateway's `supergraphSdl` hook: starts on the version `versions` holds, then hands over
 * every newer published version that loads. One that does not (its hash, SDL, catalog or the
 * policy refuse it) is logged and remembered for /health; the gateway goes on serving the one it has.
 */
export function supergraphSource(opts: SupergraphSourceOptions): SupergraphSdlHook {
  const { published, versions, log } = opts;
  return ({ update }) => {
    let seen = opts.startedFrom;
    let busy = false;
    let stopped = false;
    const step = async (): Promise<void> => {
      // Each published event is looked at once (the fold keeps one object per event).
      const newest = published.current();
      if (newest === null || newest === seen) return;
      seen = newest;
      const current = versions.served();
      let next: ServedVersion;
      try {
        next = servedVersion(newest, current);
        if (next.hash === current.hash) {
          versions.renumbered(next);
          versions.refuse(null);
          log.info(`supergraph version ${newest.version}: the same supergraph as version ${versionLabel(current)}, now served under its number`);
          return;
        }
        await opts.prepare(next);
      } catch (e) {
        refused(newest.version, e);
        return;
      }
      if (stopped) return;
      const started = performance.now();
      try {
        versions.offer(next);
        update(next.sdl);
      } catch (e) {
        refused(newest.version, e);
        await opts.restore(current).catch((err: unknown) => log.error('supergraph: the policy could not return to the version in force', err));
        return;
      }
      versions.refuse(null);
      // How long the switch held the event loop: the schema, planner and caches of the new version.
      log.info(`supergraph version ${newest.version} (${next.hash.slice(0, 12)}) served${next.rollbackOf === null ? '' : `, a rollback to version ${next.rollbackOf}`}; loaded in ${Math.round(performance.now() - started)} ms`);
    };
    const refused = (version: number, e: unknown): void => refuseVersion(versions, log, version, e);
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      step()
        .catch((e: unknown) => log.error('supergraph: following published versions failed', e))
        .finally(() => (busy = false));
    }, opts.pollMs ?? 200);
    timer.unref();
    return Promise.resolve({
      supergraphSdl: versions.served().sdl,
      cleanup: () => {
        stopped = true;
        clearInterval(timer);
        published.stop();
        return Promise.resolve();
      },
    });
  };
}

/**
 * What the gateway starts on: the newest published version, or the file at SUPERGRAPH_PATH while
 * none is published (or the newest does not load: then it is reported as refused).
 */
export async function startingVersion(published: PublishedVersions, readFile: () => string, log: Logger): Promise<{ versions: SupergraphVersions; startedFrom: SupergraphVersion | null }> {
  await published.sync();
  const newest = published.current();
  if (newest !== null) {
    try {
      return { versions: new SupergraphVersions(servedVersion(newest)), startedFrom: newest };
    } catch (e) {
      const versions = new SupergraphVersions(fileVersion(readFile()));
      refuseVersion(versions, log, newest.version, e);
      return { versions, startedFrom: newest };
    }
  }
  return { versions: new SupergraphVersions(fileVersion(readFile())), startedFrom: null };
}
