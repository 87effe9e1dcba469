import { GraphQLError, parse } from 'graphql';
import purposes from '../../../schema/purposes.json' with { type: 'json' };
import { ids, type Actor, type CatalogEntry, type ProposalTerms, type SupergraphVersion } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import type { Proposal, ProposalStatus, PublishedVersion, Registry } from '../../../ledger/registry.ts';
import { schemaChanges, type SchemaChange } from './changes.ts';
import { composeProposal, declaredDatasets } from './compose-proposal.ts';
import type { RegistryMembers } from './members.ts';
import { blockingProblems, type CheckReport } from './report.ts';
import type { CheckFn } from './run-check.ts';
import { referenceBase, sha256 } from './seed.ts';

/** The authority: its coordinators decide proposals and roll versions back. */
const AUTHORITY = 'itd';

export interface Caller {
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
}

/** SubgraphProposalInput as GraphQL and the CLI take it. */
export interface ProposalInput {
  readonly subgraph: string;
  readonly url: string;
  readonly sdl: string;
  /** JSON text: dataset id → catalog entry. */
  readonly catalog?: string | null;
  readonly note?: string | null;
}

export interface ProposalView {
  readonly id: string;
  readonly subgraph: string;
  readonly member: string;
  readonly url: string;
  readonly sdl: string;
  readonly note: string;
  readonly proposedAt: string;
  readonly proposedBy: string;
  readonly status: ProposalStatus;
  readonly report: CheckReport;
  readonly decidedAt: string | null;
  readonly decidedBy: string | null;
  readonly reasons: string | null;
  readonly version: number | null;
}

export interface VersionView {
  readonly version: number;
  readonly hash: string;
  readonly proposal: string | null;
  readonly rollbackOf: number | null;
  readonly publishedAt: string;
  readonly publishedBy: string | null;
  readonly reasons: string;
  readonly current: boolean;
  readonly subgraphs: readonly { readonly name: string; readonly member: string; readonly url: string }[];
  /** Computed when asked: a version's diff against the one before it. */
  readonly changes: () => readonly SchemaChange[];
}

export function bad(argument: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument, ...extensions } });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

function written(argument: string, text: string | null | undefined, why: string): string {
  const t = text?.trim() ?? '';
  if (t === '') throw bad(argument, `${argument} must be written out: ${why}`);
  return t;
}

const SUBGRAPH_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const FREQUENCIES = ['REALTIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY'];
const TEXT_FIELDS = ['name', 'nameEn', 'description', 'format', 'conditions'] as const;
const ENTRY_FIELDS = new Set<string>([...TEXT_FIELDS, 'frequency', 'purposes', 'lastUpdate', 'provisionMethod']);

/** One catalog entry of a proposal, checked field by field; the first problem is named. */
function catalogEntry(id: string, raw: unknown): CatalogEntry {
  const at = `catalog entry "${id}"`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('catalog', `${at} must be an object`);
  const e = raw as Record<string, unknown>;
  const unknown = Object.keys(e).find((k) => !ENTRY_FIELDS.has(k));
  if (unknown !== undefined) throw bad('catalog', `${at} has an unknown field "${unknown}" (known: ${[...ENTRY_FIELDS].join(', ')})`);
  for (const f of TEXT_FIELDS) if (typeof e[f] !== 'string' || e[f].trim() === '') throw bad('catalog', `${at}: ${f} must be a non-empty string`);
  if (typeof e['frequency'] !== 'string' || !FREQUENCIES.includes(e['frequency'])) throw bad('catalog', `${at}: frequency must be one of ${FREQUENCIES.join(', ')}, got ${JSON.stringify(e['frequency'] ?? null)}`);
  const listed = e['purposes'];
  if (!Array.isArray(listed) || !listed.every((p) => typeof p === 'string')) throw bad('catalog', `${at}: purposes must be a list of purpose codes`);
  const unknownPurpose = listed.find((p) => !Object.hasOwn(purposes, p));
  if (unknownPurpose !== undefined) throw bad('catalog', `${at}: "${unknownPurpose}" is not a purpose code of the catalog (${Object.keys(purposes).join(', ')})`);
  const lastUpdate = e['lastUpdate'];
  if (lastUpdate !== undefined && lastUpdate !== null && (typeof lastUpdate !== 'string' || Number.isNaN(Date.parse(lastUpdate)))) throw bad('catalog', `${at}: lastUpdate must be an ISO time or null`);
  const provisionMethod = e['provisionMethod'];
  if (provisionMethod !== undefined && typeof provisionMethod !== 'string') throw bad('catalog', `${at}: provisionMethod must be a string`);
  return {
    name: (e['name'] as string).trim(),
    nameEn: (e['nameEn'] as string).trim(),
    description: (e['description'] as string).trim(),
    format: (e['format'] as string).trim(),
    frequency: e['frequency'],
    conditions: (e['conditions'] as string).trim(),
    purposes: listed,
    ...(typeof lastUpdate === 'string' ? { lastUpdate } : {}),
    ...(typeof provisionMethod === 'string' ? { provisionMethod } : {}),
  };
}

/**
 * A proposal's terms from its input, for `member`: every bad part refused with BAD_USER_INPUT
 * naming it (the subgraph's name, an http(s) URL, SDL that parses, the catalog as JSON in the
 * shape of the catalog file, naming only datasets the SDL declares).
 */
export function proposalTerms(input: ProposalInput, member: string): ProposalTerms {
  const name = input.subgraph.trim();
  if (!SUBGRAPH_NAME.test(name)) throw bad('subgraph', `subgraph must be a name of lower-case letters, digits and dashes starting with a letter (at most 32), got "${input.subgraph}"`);
  let url: URL;
  try {
    url = new URL(input.url.trim());
  } catch {
    throw bad('url', `url must be an absolute http(s) URL, got "${input.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('url', `url must be an http or https URL, got scheme "${url.protocol.replace(/:$/, '')}"`);
  if (url.username !== '' || url.password !== '') throw bad('url', 'url must not carry a user name or password');
  if (input.sdl.trim() === '') throw bad('sdl', 'sdl is empty: send the subgraph\'s schema with its @dataset declarations');
  try {
    parse(input.sdl);
  } catch (e) {
    throw bad('sdl', `sdl does not parse: ${(e as Error).message}`);
  }
  const catalog: Record<string, CatalogEntry> = {};
  const text = input.catalog?.trim() ?? '';
  if (text !== '') {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw bad('catalog', `catalog is not JSON: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('catalog', 'catalog must be a JSON object: dataset id → catalog entry, as in schema/catalog/datasets.json');
    const declared = declaredDatasets(input.sdl);
    for (const [id, entry] of Object.entries(raw)) {
      if (!declared.has(id)) throw bad('catalog', `catalog entry "${id}" names a dataset the SDL does not declare (declared: ${[...declared].join(', ') || 'none'})`);
      catalog[id] = catalogEntry(id, entry);
    }
  }
  return { subgraph: { name, member, url: url.toString(), sdl: input.sdl }, catalog, note: input.note?.trim() ?? '' };
}

const who = (a: Actor | null): string | null => (a === null ? null : a.sub);
const actorOf = (c: Caller): Actor => ({ sub: c.sub, agency: c.agency });

export interface RegistryServiceDeps {
  readonly ledger: Ledger;
  readonly registry: Registry;
  readonly members: RegistryMembers;
  readonly check: CheckFn;
}

class Stale extends Error {}

/**
 * The registry's workflow (docs/registry.md): members check and propose subgraph versions; the
 * authority's coordinators approve, refuse and roll back, in writing. Every step is a ledger event,
 * decided on the registry's fold so that two steps never decide on the same state.
 */
export function registryService(deps: RegistryServiceDeps) {
  const { ledger, registry, members, check } = deps;
  let reference: SupergraphVersion | null = null;
  const base = (): SupergraphVersion => registry.current() ?? (reference ??= referenceBase());
  const changes = new Map<number, readonly SchemaChange[]>();

  const coordinator = (c: Caller, what: string): void => {
    if (c.agency !== AUTHORITY || !c.roles.includes('coordinator')) throw forbidden(`only a coordinator of the authority (${AUTHORITY}) ${what}`);
  };
  /** A member checks and proposes only its own subgraphs: a name is the member's that first published it. */
  const mayPropose = (c: Caller, name: string): void => {
    if (!members.isActive(c.agency)) throw forbidden(`${c.agency} is not an active member of the exchange: only active members propose subgraphs`);
    const owner = registry.owners.get(name);
    if (owner !== undefined && owner !== c.agency) throw forbidden(`subgraph "${name}" belongs to ${owner}, the member that first published it; propose your subgraph under a name of your own`);
  };
  const proposalView = (p: Proposal): ProposalView => ({
    id: p.id,
    subgraph: p.terms.subgraph.name,
    member: p.terms.subgraph.member,
    url: p.terms.subgraph.url,
    sdl: p.terms.subgraph.sdl,
    note: p.terms.note,
    proposedAt: p.proposedAt,
    proposedBy: who(p.proposedBy) ?? '',
    status: p.status,
    report: p.report as CheckReport,
    decidedAt: p.decidedAt,
    decidedBy: who(p.decidedBy),
    reasons: p.reasons,
    version: p.version,
  });
  const versionView = (v: PublishedVersion): VersionView => ({
    version: v.version,
    hash: v.hash,
    proposal: v.proposal,
    rollbackOf: v.rollbackOf,
    publishedAt: v.publishedAt,
    publishedBy: who(v.publishedBy),
    reasons: v.reasons,
    current: registry.current()?.version === v.version,
    subgraphs: v.subgraphs.map((s) => ({ name: s.name, member: s.member, url: s.url })),
    changes: () => {
      const known = changes.get(v.version);
      if (known !== undefined) return known;
      const before = registry.versions.find((x) => x.version === v.version - 1);
      const found = before === undefined ? [] : schemaChanges(before.supergraphSdl, v.supergraphSdl);
      changes.set(v.version, found);
      return found;
    },
  });
  const pending = (id: string): Proposal => {
    const p = registry.proposals.get(id);
    if (p === undefined) throw bad('id', `no proposal "${id}"`);
    if (p.status !== 'PENDING') throw bad('id', `proposal ${id} is already ${p.status}${p.version === null ? '' : ` (version ${p.version})`}`);
    return p;
  };
  const published = (): PublishedVersion => {
    const v = registry.current();
    if (v === null) throw bad('id', 'no supergraph version is published yet: the exchange records version 1 on its first start over the reference supergraph');
    return v;
  };

  return {
    async check(input: ProposalInput, caller: Caller): Promise<CheckReport> {
      const terms = proposalTerms(input, caller.agency);
      await registry.sync();
      mayPropose(caller, terms.subgraph.name);
      return check({ base: base(), proposal: terms, proposer: caller.agency });
    },

    async propose(input: ProposalInput, caller: Caller): Promise<ProposalView> {
      const terms = proposalTerms(input, caller.agency);
      await registry.sync();
      mayPropose(caller, terms.subgraph.name);
      const report = await check({ base: base(), proposal: terms, proposer: caller.agency });
      const e = await ledger.record({ type: 'subgraph.proposed', data: { proposal: terms, report } }, actorOf(caller));
      return proposalView(registry.proposals.get(ids.proposal(e.seq))!);
    },

    async approve(id: string, reasons: string, caller: Caller): Promise<VersionView> {
      coordinator(caller, 'approves a subgraph proposal');
      const why = written('reasons', reasons, 'the authority approves in writing');
      for (let attempt = 0; ; attempt++) {
        await registry.sync();
        const p = pending(id);
        const on = published();
        const { member, name } = p.terms.subgraph;
        const owner = registry.owners.get(name);
        if (owner !== undefined && owner !== member) throw bad('id', `proposal ${id} cannot be approved: subgraph "${name}" belongs to ${owner}, not ${member}`);
        if (!members.isActive(member)) throw bad('id', `proposal ${id} cannot be approved: ${member} is not an active member`);
        // Checked again on the version it would change: an older check may no longer hold.
        const report = await check({ base: on, proposal: p.terms, proposer: member });
        if (!report.approvable) {
          const problems = blockingProblems(report);
          throw bad('id', `proposal ${id} cannot be approved on version ${on.version}: ${problems.join('; ') || 'the check does not pass'}`, { problems });
        }
        const composed = composeProposal(on, p.terms, members.names());
        if (!composed.ok) throw bad('id', `proposal ${id} cannot be approved on version ${on.version}: ${composed.errors.join('; ')}`, { problems: composed.errors });
        try {
          const e = await ledger.decide(
            registry.projection,
            () => {
              if (registry.current()?.version !== on.version) throw new Stale();
              pending(id);
              return { type: 'supergraph.published', data: { version: on.version + 1, hash: sha256(composed.supergraphSdl), supergraphSdl: composed.supergraphSdl, subgraphs: composed.subgraphs, catalog: composed.catalog, proposal: id, rollbackOf: null, reasons: why } };
            },
            actorOf(caller),
          );
          return versionView(registry.versions.find((v) => v.seq === e.seq)!);
        } catch (e) {
          // Another version was published meanwhile: check again on it.
          if (!(e instanceof Stale) || attempt >= 5) throw e instanceof Stale ? bad('id', `proposal ${id}: versions kept being published while it was checked; try again`) : e;
        }
      }
    },

    async refuse(id: string, reasons: string, caller: Caller): Promise<ProposalView> {
      coordinator(caller, 'refuses a subgraph proposal');
      const why = written('reasons', reasons, 'a refusal says why, in writing');
      await ledger.decide(
        registry.projection,
        () => {
          pending(id);
          return { type: 'subgraph.refused', data: { id, reasons: why } };
        },
        actorOf(caller),
      );
      return proposalView(registry.proposals.get(id)!);
    },

    async rollback(version: number, reasons: string, caller: Caller): Promise<VersionView> {
      coordinator(caller, 'rolls the supergraph back');
      const why = written('reasons', reasons, 'a rollback says why, in writing');
      const e = await ledger.decide(
        registry.projection,
        () => {
          const now = registry.current();
          if (now === null) throw bad('version', 'no supergraph version is published yet');
          const target = registry.versions.find((v) => v.version === version);
          if (target === undefined) throw bad('version', `no supergraph version ${version} (published: 1 to ${now.version})`);
          if (target.hash === now.hash) throw bad('version', `version ${version} has the content served now (version ${now.version}, sha256 ${now.hash.slice(0, 12)}): nothing to roll back`);
          return {
            type: 'supergraph.published',
            data: { version: now.version + 1, hash: target.hash, supergraphSdl: target.supergraphSdl, subgraphs: target.subgraphs, catalog: target.catalog, proposal: null, rollbackOf: target.version, reasons: why },
          };
        },
        actorOf(caller),
      );
      return versionView(registry.versions.find((v) => v.seq === e.seq)!);
    },

    /** The authority sees every proposal; a member its own. */
    async proposals(status: ProposalStatus | null, caller: Caller): Promise<ProposalView[]> {
      await registry.sync();
      return [...registry.proposals.values()]
        .filter((p) => caller.agency === AUTHORITY || p.terms.subgraph.member === caller.agency)
        .filter((p) => status === null || p.status === status)
        .map(proposalView);
    },

    async proposal(id: string, caller: Caller): Promise<ProposalView | null> {
      await registry.sync();
      const p = registry.proposals.get(id);
      if (p === undefined) return null;
      if (caller.agency !== AUTHORITY && p.terms.subgraph.member !== caller.agency) throw forbidden(`proposal ${id} is ${p.terms.subgraph.member}'s: a member sees its own proposals, the authority all`);
      return proposalView(p);
    },

    /** Oldest first. */
    async versions(): Promise<VersionView[]> {
      await registry.sync();
      return registry.versions.map(versionView);
    },
  };
}

export type RegistryService = ReturnType<typeof registryService>;
