import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { SubgraphContext } from '../../kit/context.ts';
import { CONFIRMING_AGENCIES, EMISSION_TOTALS, SEED_CONFIRMATIONS } from '../data.ts';
import { ids, type InconsistencyReport, type Recorded } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { freshness } from './freshness.ts';
import { diffCatalogs, type CatalogVersion, type DatasetShape } from './history.ts';
import type { Catalogs, CatalogState } from './versions.ts';

const AUTHORITY = 'itd';

/** One entry of the catalog's history: a composition before the registry, or a published version. */
interface HistoryEntry extends CatalogVersion {
  readonly supergraphVersion: number | null;
  readonly approvedBy: string | null;
  readonly reasons: string | null;
}

/** A report as folded from the ledger: what was reported, and how it was answered. */
interface Inconsistency extends InconsistencyReport {
  readonly id: string;
  status: 'OPEN' | 'RESOLVED' | 'REJECTED';
  answer: string | null;
  answeredBy: string | null;
}

function bad(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

/** Opaque cursors: the offset in the filtered, ordered list. */
const cursor = (n: number): string => Buffer.from(`c:${n}`).toString('base64url');
function offsetOf(after: string | null | undefined): number {
  if (after === null || after === undefined) return 0;
  const m = /^c:(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
  if (m === null) throw bad('after', 'after is not a cursor this catalog gave out');
  return Number(m[1]);
}

/**
 * What changed from one version's catalog to the next, as the history shows it: datasets,
 * class, sensitivity, fields, and every attribute of the entries.
 */
function catalogDiff(before: CatalogState, after: CatalogState): CatalogVersion['changes'] {
  return diffCatalogs(before.shapes, after.shapes);
}

/**
 * The history: the compositions recorded before the registry (schema/catalog-history.json), then
 * one entry per version published after the seed, with what changed since the version before.
 */
function historyOf(compositions: readonly CatalogVersion[], catalog: Catalogs): HistoryEntry[] {
  const entries: HistoryEntry[] = compositions.map((v) => ({ ...v, supergraphVersion: null, approvedBy: null, reasons: null }));
  const versions = catalog.versions();
  for (let i = 1; i < versions.length; i++) {
    const v = versions[i]!;
    const p = v.published!;
    entries.push({
      version: entries.length + 1,
      at: p.publishedAt,
      changes: catalogDiff(versions[i - 1]!, v),
      supergraphVersion: p.version,
      approvedBy: p.publishedBy?.sub ?? null,
      reasons: p.reasons,
    });
  }
  return entries;
}

/**
 * The authority's catalog, one-data-one-source reports and the
 * confirmation of emission totals (R-E11). The catalog is the newest published supergraph
 * version's datasets and entries, asked for on every question, so it follows each version; every
 * report is an event in the authority's durable log.
 */
export async function catalogResolvers(deps: { catalog: Catalogs; historyPath: string; ledger: Ledger; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const { catalog } = deps;
  let compositions: CatalogVersion[] = [];
  try {
    compositions = JSON.parse(readFileSync(deps.historyPath, 'utf8')) as CatalogVersion[];
  } catch {
    compositions = [];
  }
  // The history changes only when a version is published: worked out again then.
  let history: { of: number; entries: HistoryEntry[] } = { of: -1, entries: [] };
  const changes = (): HistoryEntry[] => {
    const count = catalog.versions().length;
    if (history.of !== count) history = { of: count, entries: historyOf(compositions, catalog) };
    return history.entries;
  };

  // State folded from the event log.
  const lastUpdate = new Map<string, string>();
  const reports = new Map<string, Inconsistency>();
  const confirmations = new Map<string, Map<string, string>>(); // "year|region" -> agency -> when
  const confirm = (year: number, region: string, agency: string, at: string): void => {
    const key = `${year}|${region}`;
    const m = confirmations.get(key) ?? new Map<string, string>();
    if (!m.has(agency)) m.set(agency, at);
    confirmations.set(key, m);
  };
  for (const c of SEED_CONFIRMATIONS) confirm(c.year, c.region, c.agency, c.confirmedOn);
  // The catalog's own events; the rest of the ledger is other projections' business.
  const fold = (e: Recorded): void => {
    if (e.type === 'dataset.updated') lastUpdate.set(e.data.dataset, e.data.asOf);
    else if (e.type === 'inconsistency.reported') {
      const id = ids.inconsistency(e.seq);
      reports.set(id, { ...e.data.report, id, status: 'OPEN', answer: null, answeredBy: null });
    } else if (e.type === 'inconsistency.answered') {
      const r = reports.get(e.data.id);
      if (r !== undefined) Object.assign(r, { status: e.data.status, answer: e.data.answer, answeredBy: e.actor?.agency ?? null });
    } else if (e.type === 'totals.confirmed') confirm(e.data.year, e.data.region, e.actor?.agency ?? '', e.at);
  };
  const projection = deps.ledger.project(fold);
  await projection.sync();
  const actorOf = (ctx: SubgraphContext) => ({ sub: ctx.caller.sub, agency: ctx.caller.agency });

  const view = (d: DatasetShape, cat: CatalogState) => {
    const m = cat.entries[d.id]!;
    const last = lastUpdate.get(d.id) ?? m.lastUpdate;
    return {
      id: d.id,
      provider: d.provider,
      class: d.class,
      sensitivity: d.sensitivity,
      coordinates: d.coordinates,
      name: m.name,
      nameEn: m.nameEn,
      description: m.description,
      format: m.format,
      provisionMethod: m.provisionMethod ?? `GraphQL through the exchange gateway: ${d.coordinates.join(', ')}`,
      conditions: m.conditions,
      frequency: m.frequency,
      lastUpdate: last,
      freshness: freshness(m.frequency, last === null ? null : Date.parse(last), now().getTime()),
      purposes: m.purposes,
    };
  };
  const totals = (year: number, region: string) => EMISSION_TOTALS.find((t) => t.year === year && t.region === region);
  const all = () => {
    const cat = catalog.current();
    return cat.shapes.map((d) => view(d, cat));
  };
  const overdue = () => all().filter((d) => d.freshness === 'OVERDUE');

  return {
    overdue,
    Query: {
      catalog: (_: unknown, args: { search?: string | null; provider?: string | null; class?: string | null; sensitivity?: string | null; first: number; after?: string | null }) => {
        if (args.first < 1 || args.first > 100) throw bad('first', 'first must be between 1 and 100');
        const q = args.search?.trim().toLowerCase() ?? '';
        const found = all()
          .filter((d) => q === '' || d.name.includes(q) || d.nameEn.toLowerCase().includes(q) || d.id.includes(q) || d.description.includes(q))
          .filter((d) => !args.provider || d.provider === args.provider)
          .filter((d) => !args.class || d.class === args.class)
          .filter((d) => !args.sensitivity || d.sensitivity === args.sensitivity);
        const from = offsetOf(args.after);
        const items = found.slice(from, from + args.first);
        const end = from + items.length;
        return { items, totalCount: found.length, next: end < found.length ? cursor(end) : null };
      },
      catalogChanges: (_: unknown, args: { since?: string | null }) =>
        changes().filter((v) => !args.since || v.at >= args.since),
      overdueDatasets: overdue,
      inconsistencyReports: (_: unknown, args: { status?: string | null }, ctx: SubgraphContext) => {
        const a = ctx.caller.agency;
        // A report stays visible to the provider of a dataset a later version removed.
        const providerOf = (id: string | null): string | null => (id === null ? null : catalog.providerOf(id));
        return [...reports.values()]
          .filter((r) => a === AUTHORITY || r.reportedBy === a || providerOf(r.dataset) === a || providerOf(r.otherDataset) === a)
          .filter((r) => !args.status || r.status === args.status);
      },
      regionEmissionTotals: (_: unknown, args: { year: number; region: string }) => {
        const t = totals(args.year, args.region);
        if (t === undefined) return null;
        const confirmedBy = [...(confirmations.get(`${args.year}|${args.region}`)?.keys() ?? [])];
        const awaiting = CONFIRMING_AGENCIES.filter((a) => !confirmedBy.includes(a));
        if (awaiting.length > 0) throw unpublished(args.year, args.region, confirmedBy, awaiting);
        return { ...t, confirmedBy };
      },
    },
    Mutation: {
      reportDatasetUpdate: async (_: unknown, args: { dataset: string; asOf: string }, ctx: SubgraphContext) => {
        const cat = catalog.current();
        const d = cat.byId.get(args.dataset);
        if (d === undefined) throw bad('dataset', `unknown dataset "${args.dataset}"`);
        if (d.provider !== ctx.caller.agency) throw forbidden(`only ${d.provider}, the provider of ${d.id}, reports its updates (R-17)`);
        const asOf = Date.parse(args.asOf);
        if (Number.isNaN(asOf)) throw bad('asOf', `asOf must be an ISO time, got "${args.asOf}"`);
        if (asOf > now().getTime() + 60_000) throw bad('asOf', 'asOf is in the future');
        await deps.ledger.record({ type: 'dataset.updated', data: { dataset: d.id, asOf: new Date(asOf).toISOString() } }, actorOf(ctx));
        return view(d, cat);
      },
      reportInconsistency: async (_: unknown, args: { dataset: string; entityKey: string; otherDataset?: string | null; description: string }, ctx: SubgraphContext) => {
        const { byId } = catalog.current();
        if (!byId.has(args.dataset)) throw bad('dataset', `unknown dataset "${args.dataset}"`);
        if (args.otherDataset && !byId.has(args.otherDataset)) throw bad('otherDataset', `unknown dataset "${args.otherDataset}"`);
        if (args.description.trim() === '') throw bad('description', 'describe what is wrong, in writing (R-27)');
        if (args.entityKey.trim() === '') throw bad('entityKey', 'name the enterprise or person the data is about');
        const report = {
          dataset: args.dataset,
          entityKey: args.entityKey.trim(),
          otherDataset: args.otherDataset ?? null,
          description: args.description.trim(),
          reportedBy: ctx.caller.agency,
          reportedAt: now().toISOString(),
        };
        const e = await deps.ledger.record({ type: 'inconsistency.reported', data: { report } }, actorOf(ctx));
        return reports.get(ids.inconsistency(e.seq));
      },
      answerInconsistency: async (_: unknown, args: { id: string; answer: string; status: 'RESOLVED' | 'REJECTED' }, ctx: SubgraphContext) => {
        const r = reports.get(args.id);
        if (r === undefined) throw bad('id', `no inconsistency report ${args.id}`);
        const provider = catalog.providerOf(r.dataset);
        if (ctx.caller.agency !== provider && ctx.caller.agency !== AUTHORITY) throw forbidden(`only ${provider}, the provider, or the authority answers report ${r.id}`);
        if (args.answer.trim() === '') throw bad('answer', 'the answer must be written out (R-27)');
        await deps.ledger.record({ type: 'inconsistency.answered', data: { id: r.id, status: args.status, answer: args.answer.trim() } }, actorOf(ctx));
        return reports.get(r.id);
      },
      confirmEmissionTotals: async (_: unknown, args: { year: number; region: string }, ctx: SubgraphContext) => {
        const agency = ctx.caller.agency;
        if (!(CONFIRMING_AGENCIES as readonly string[]).includes(agency)) throw forbidden('only eeb, drc and stats confirm emission totals (R-E11)');
        const t = totals(args.year, args.region);
        if (t === undefined) throw bad('region', `no emission totals for ${args.region} in ${args.year}`);
        await deps.ledger.decide(
          projection,
          () => {
            if (confirmations.get(`${args.year}|${args.region}`)?.has(agency)) throw bad('year', `${agency} has already confirmed the ${args.year} totals for ${args.region}`);
            return { type: 'totals.confirmed', data: { year: args.year, region: args.region } };
          },
          actorOf(ctx),
        );
        const confirmedBy = [...(confirmations.get(`${args.year}|${args.region}`)?.keys() ?? [])];
        return { year: args.year, region: args.region, confirmedBy, published: CONFIRMING_AGENCIES.every((a) => confirmedBy.includes(a)) };
      },
    },
  };
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
