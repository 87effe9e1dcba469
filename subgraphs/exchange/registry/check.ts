import { Kind, parse, print, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode, type TypeNode } from 'graphql';
import purposes from '../../../schema/purposes.json' with { type: 'json' };
import { cstDate } from '../../../common/cst-date.ts';
import { readDeclarations, type Declaration, type SharingClass } from '../../../common/declarations.ts';
import type { CatalogEntry, Grant, ProposalTerms, SubgraphSpec, SupergraphVersion } from '../../../ledger/events.ts';
import { FREQUENCIES } from '../catalog/freshness.ts';
import { classificationProblems, datasetsOfSubgraphs, ENTRY_ATTRIBUTES, entryValue, type DatasetShape, type EntryAttribute } from '../catalog/history.ts';
import { composeProposal, declaredDatasets, type MemberNames } from './compose-proposal.ts';
import type { ReadCounts } from './reads.ts';
import { referenceBase } from './seed.ts';
import type { BreakingChange, CatalogDiffEntry, CheckReport, ReaderCount, SourceConflict } from './report.ts';

export type { CheckReport } from './report.ts';

/**
 * The check of a subgraph proposal (docs/registry.md, "The check"): what the proposal would do to
 * the exchange, reported before anything changes. Composition errors, fields without a dataset,
 * two sources for one piece of data (R-8) and the classification guardrails (R-4) block an
 * approval; breaking changes do not by themselves: each comes with the grants in force that name
 * its dataset and the agencies that read it in the last 90 days, for the authority to weigh.
 */
export interface CheckInput {
  /** The version the proposal would change; null before any is published: the reference composition. */
  readonly base: SupergraphVersion | null;
  readonly proposal: ProposalTerms;
  /** The member that proposes (or asks for the check). */
  readonly proposer: string;
}

export interface CheckDeps {
  /**
   * The grants: the ledger's (the exchange's grant store fits) and the policy files' standing ones
   * (grantsWithPolicyFiles); those in force at `now` are listed.
   */
  readonly grants: { snapshot(): Promise<{ readonly grants: ReadonlyMap<string, Grant> }> };
  /** Who read which coordinates: the access log's counts or the archive's. */
  readonly reads: Pick<ReadCounts, 'from' | 'readers'>;
  /** The registry's members: who may publish, and (when given) whom a subgraph may name as a provider. */
  readonly members: { isActive(code: string): boolean; names?(): MemberNames };
  /** The clock the 90 days of reads and the grants in force are taken at. */
  readonly now?: () => Date;
}

/** The authority that runs the registry. */
const AUTHORITY = 'itd';

/** How far back the readers of a breaking change are counted. */
export const READ_WINDOW_DAYS = 90;

const RANK: Readonly<Record<SharingClass, number>> = { UNCONDITIONAL: 0, CONDITIONAL: 1, NOT_SHARED: 2 };
/** The purpose codes a catalog entry may list. */
const PURPOSES = new Set(Object.keys(purposes));

export async function checkProposal(input: CheckInput, deps: CheckDeps): Promise<CheckReport> {
  const now = (deps.now ?? (() => new Date()))();
  const base = input.base ?? (reference ??= referenceBase());
  const { proposal } = input;
  const next = proposal.subgraph;
  const subgraphs = nextSubgraphs(base.subgraphs, next);
  const memberOf = new Map(subgraphs.map((s) => [s.name, s.member]));

  const composed = composeProposal(base, proposal, deps.members.names?.());
  // Two sources for one item are this report's `sources`, with the members named; composition
  // refuses them with the same finding, which is not repeated here.
  const compositionErrors = composed.ok ? [] : composed.errors.filter((e) => !e.startsWith('R-8 '));

  const catalog = composed.ok ? composed.catalog : nextCatalog(base, proposal);
  const before = datasetsOfSubgraphs(base.subgraphs, base.catalog);
  const after = datasetsOfSubgraphs(subgraphs, catalog);

  // SDL that does not parse is a composition error; compared with the base it would look like
  // everything the subgraph served was removed, which is not what the member proposed.
  const readable = tryParse(next.sdl) !== null;
  const report: Omit<CheckReport, 'approvable'> = {
    compositionErrors,
    undeclaredFields: undeclaredFields(next.sdl),
    sources: sourceConflicts(subgraphs, next.name, memberOf),
    guardrails: guardrails(input, base, deps.members),
    breakingChanges: readable ? await breakingChanges(base.subgraphs, subgraphs, now, deps) : [],
    catalogDiff: readable ? catalogDiff(before, after) : [],
    readsFrom: deps.reads.from,
  };
  const approvable = report.compositionErrors.length === 0 && report.undeclaredFields.length === 0 && report.sources.length === 0 && report.guardrails.length === 0;
  return { approvable, ...report };
}

/** The reference composition (version 0, recorded nowhere), for a check before any version is published; composed once. */
let reference: SupergraphVersion | null = null;

function nextSubgraphs(base: readonly SubgraphSpec[], next: SubgraphSpec): SubgraphSpec[] {
  return base.some((s) => s.name === next.name) ? base.map((s) => (s.name === next.name ? next : s)) : [...base, next];
}

/** The catalog a proposal makes (as composition would) when it does not compose. */
function nextCatalog(base: SupergraphVersion, proposal: ProposalTerms): Record<string, CatalogEntry> {
  const catalog: Record<string, CatalogEntry> = { ...base.catalog };
  const replaced = base.subgraphs.find((s) => s.name === proposal.subgraph.name);
  const declared = declaredDatasets(proposal.subgraph.sdl);
  if (replaced !== undefined) for (const d of declaredDatasets(replaced.sdl)) if (!declared.has(d)) delete catalog[d];
  return Object.assign(catalog, proposal.catalog);
}

function tryParse(sdl: string): DocumentNode | null {
  try {
    return parse(sdl);
  } catch {
    return null;
  }
}

/** A federation directive by its name, imported plainly or under the federation__ prefix. */
function federation(directives: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode | undefined {
  return directives?.find((d) => d.name.value === name || d.name.value === `federation__${name}`);
}

function stringArgument(d: ConstDirectiveNode | undefined, name: string): string | null {
  const a = d?.arguments?.find((x) => x.name.value === name);
  return a !== undefined && a.value.kind === Kind.STRING ? a.value.value : null;
}

interface TypeFields {
  readonly type: string;
  /** An interface's fields are resolved by the types that implement it, not by the interface. */
  readonly abstract: boolean;
  /** Fields named in the type's @key: the entity's identity, which every subgraph of the entity holds. */
  readonly keys: ReadonlySet<string>;
  readonly fields: readonly FieldDefinitionNode[];
  readonly shareable: boolean;
}

/** The object and interface types of a subgraph (definitions and extensions), with their key fields. */
function typeFields(doc: DocumentNode): TypeFields[] {
  const out: TypeFields[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_EXTENSION) continue;
    const keys = new Set<string>();
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'key' && d.name.value !== 'federation__key') continue;
      for (const name of (stringArgument(d, 'fields') ?? '').match(/[_A-Za-z][_0-9A-Za-z]*/g) ?? []) keys.add(name);
    }
    const abstract = def.kind === Kind.INTERFACE_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_EXTENSION;
    out.push({ type: def.name.value, abstract, keys, fields: def.fields ?? [], shareable: federation(def.directives, 'shareable') !== undefined });
  }
  return out;
}

/**
 * Fields of the proposed subgraph that belong to no dataset. Every field an agency serves is
 * catalogued; the exceptions are those the gateway always lets through: an entity's key fields
 * (its identity, held by every subgraph of the entity) and fields marked @external (resolved by
 * another subgraph). The gateway would deny the rest as NOT_CATALOGUED.
 */
function undeclaredFields(sdl: string): string[] {
  const doc = tryParse(sdl);
  if (doc === null) return [];
  const declared = new Set(readDeclarations(doc, 'proposal').declarations.map((d) => d.coordinate));
  const out: string[] = [];
  for (const t of typeFields(doc)) {
    for (const f of t.fields) {
      const coordinate = `${t.type}.${f.name.value}`;
      if (declared.has(coordinate) || t.keys.has(f.name.value) || federation(f.directives, 'external') !== undefined) continue;
      if (!out.includes(coordinate)) out.push(coordinate);
    }
  }
  return out;
}

/**
 * R-8, one data, one source, where the proposed subgraph is involved: a dataset declared by two
 * subgraphs, and a field two subgraphs resolve, whether composition would merge them (@shareable)
 * or not. A key field is not a second source (it is the entity's identity, not data about it), nor
 * an @external field, nor a field another subgraph has taken over with @override, nor an
 * interface's field (the types implementing it resolve it, and are counted themselves).
 */
function sourceConflicts(subgraphs: readonly SubgraphSpec[], proposed: string, memberOf: ReadonlyMap<string, string>): SourceConflict[] {
  const resolvers = new Map<string, { subgraph: string; shareable: boolean }[]>();
  const claims = new Map<string, string[]>();
  const overridden = new Set<string>(); // "<subgraph>\0<coordinate>" a field moved away from
  const docs = subgraphs.map((s) => ({ s, doc: tryParse(s.sdl) }));
  for (const { s, doc } of docs) {
    if (doc === null) continue;
    for (const t of typeFields(doc)) {
      for (const f of t.fields) {
        const from = stringArgument(federation(f.directives, 'override'), 'from');
        if (from !== null) overridden.add(`${from}\u0000${t.type}.${f.name.value}`);
      }
    }
    for (const d of readDeclarations(doc, s.name).declarations) {
      const list = claims.get(d.dataset) ?? [];
      if (!list.includes(s.name)) list.push(s.name);
      claims.set(d.dataset, list);
    }
  }
  for (const { s, doc } of docs) {
    if (doc === null) continue;
    for (const t of typeFields(doc)) {
      if (t.abstract) continue;
      for (const f of t.fields) {
        const coordinate = `${t.type}.${f.name.value}`;
        if (t.keys.has(f.name.value) || federation(f.directives, 'external') !== undefined || overridden.has(`${s.name}\u0000${coordinate}`)) continue;
        const list = resolvers.get(coordinate) ?? [];
        if (!list.some((r) => r.subgraph === s.name)) list.push({ subgraph: s.name, shareable: t.shareable || federation(f.directives, 'shareable') !== undefined });
        resolvers.set(coordinate, list);
      }
    }
  }
  const named = (names: readonly string[]): string => names.map((n) => `${n} (member ${memberOf.get(n) ?? '?'})`).join(' and ');
  const membersOf = (names: readonly string[]): string[] => [...new Set(names.map((n) => memberOf.get(n) ?? n))].sort();
  const out: SourceConflict[] = [];
  for (const [dataset, names] of claims) {
    if (names.length < 2 || !names.includes(proposed)) continue;
    out.push({ item: dataset, members: membersOf(names), message: `R-8 one data, one source: dataset ${dataset} would be declared by subgraphs ${named(names)}; one member provides a dataset, the others read it through the exchange` });
  }
  for (const [coordinate, list] of resolvers) {
    const names = list.map((r) => r.subgraph);
    if (names.length < 2 || !names.includes(proposed)) continue;
    const shareable = list.every((r) => r.shareable) ? ' (each marks it @shareable, so composition would merge them)' : '';
    out.push({ item: coordinate, members: membersOf(names), message: `R-8 one data, one source: field ${coordinate} would be resolved by subgraphs ${named(names)}${shareable}; one member provides it, the others read it through the exchange` });
  }
  return out.sort((a, b) => a.item.localeCompare(b.item));
}

/**
 * R-4 and the registry's own rules: sensitive data is never open to every agency; the subgraph is
 * proposed by its member, an active one, and keeps the member that first published its name; the
 * proposal's catalog describes exactly the datasets its SDL declares, with purposes and an update
 * frequency the exchange knows.
 */
function guardrails(input: CheckInput, base: SupergraphVersion, members: CheckDeps['members']): string[] {
  const next = input.proposal.subgraph;
  const out: string[] = [];
  // The authority's coordinators check any member's proposal again before deciding it.
  if (input.proposer !== next.member && input.proposer !== AUTHORITY) out.push(`subgraph ${next.name} names member ${next.member} but is proposed by ${input.proposer}: a member proposes its own subgraph`);
  if (!members.isActive(next.member)) out.push(`${next.member} is not an active member: only an active member publishes a subgraph`);
  const owner = base.subgraphs.find((s) => s.name === next.name)?.member;
  if (owner !== undefined && owner !== next.member) out.push(`subgraph name ${next.name} belongs to member ${owner}, which published it first`);
  out.push(...classificationProblems(datasetsOfSubgraphs([next])));
  const declared = declaredDatasets(next.sdl);
  for (const [id, entry] of Object.entries(input.proposal.catalog)) {
    if (!declared.has(id)) {
      out.push(`catalog entry ${id}: the subgraph declares no field of it; a catalog entry describes data the subgraph serves`);
      continue;
    }
    for (const attribute of ['name', 'nameEn', 'description', 'format', 'conditions'] as const) {
      if (typeof entry[attribute] !== 'string' || entry[attribute].trim() === '') out.push(`catalog entry ${id}: ${attribute} is empty (R-13: the catalog says what the data is and on what conditions it is shared)`);
    }
    if (!(FREQUENCIES as readonly string[]).includes(entry.frequency)) out.push(`catalog entry ${id}: frequency must be one of ${FREQUENCIES.join(', ')}, got ${JSON.stringify(entry.frequency)}`);
    // The entry comes from a proposal's JSON: its shape is checked, not assumed.
    const listed: readonly unknown[] = Array.isArray(entry.purposes) ? (entry.purposes as readonly unknown[]) : [];
    for (const p of listed) {
      if (typeof p !== 'string' || !PURPOSES.has(p)) out.push(`catalog entry ${id}: purpose ${JSON.stringify(p)} is not one of the exchange's purpose codes`);
    }
  }
  return out;
}

// ---- breaking changes ----

type Shape =
  | { readonly kind: 'OBJECT' | 'INTERFACE'; readonly fields: Map<string, { type: TypeNode; args: Map<string, { type: TypeNode; defaulted: boolean }> }> }
  | { readonly kind: 'INPUT'; readonly fields: Map<string, { type: TypeNode; defaulted: boolean }> }
  | { readonly kind: 'ENUM' | 'UNION'; readonly values: Set<string> }
  | { readonly kind: 'SCALAR' };

/** Types federation adds or manages, never part of what a client reads. */
const INTERNAL_TYPE = /^(_Any|_Entity|_Service|link__|federation__|join__)/;

/**
 * What clients can select of a set of subgraphs: every type and field (merged over the subgraphs,
 * @external and @inaccessible fields left out), with argument and field types. Read from the
 * subgraphs' SDL so that it is known whether or not they compose.
 */
function surface(subgraphs: readonly SubgraphSpec[]): Map<string, Shape> {
  const types = new Map<string, Shape>();
  const hidden = (directives: readonly ConstDirectiveNode[] | undefined): boolean => federation(directives, 'external') !== undefined || federation(directives, 'inaccessible') !== undefined;
  for (const s of subgraphs) {
    const doc = tryParse(s.sdl);
    if (doc === null) continue;
    for (const def of doc.definitions) {
      if (def.kind === Kind.OPERATION_DEFINITION || def.kind === Kind.FRAGMENT_DEFINITION || def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.SCHEMA_EXTENSION) continue;
      if (def.kind === Kind.DIRECTIVE_DEFINITION || INTERNAL_TYPE.test(def.name.value)) continue;
      const name = def.name.value;
      // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- a scalar extension adds nothing a client selects
      switch (def.kind) {
        case Kind.OBJECT_TYPE_DEFINITION:
        case Kind.OBJECT_TYPE_EXTENSION:
        case Kind.INTERFACE_TYPE_DEFINITION:
        case Kind.INTERFACE_TYPE_EXTENSION: {
          const kind = def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION ? 'OBJECT' : 'INTERFACE';
          const shape = types.get(name) ?? { kind, fields: new Map() };
          types.set(name, shape);
          if (shape.kind !== 'OBJECT' && shape.kind !== 'INTERFACE') break;
          for (const f of def.fields ?? []) {
            if (hidden(f.directives) || shape.fields.has(f.name.value)) continue;
            shape.fields.set(f.name.value, { type: f.type, args: new Map((f.arguments ?? []).map((a) => [a.name.value, { type: a.type, defaulted: a.defaultValue !== undefined }])) });
          }
          break;
        }
        case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        case Kind.INPUT_OBJECT_TYPE_EXTENSION: {
          const shape = types.get(name) ?? { kind: 'INPUT', fields: new Map() };
          types.set(name, shape);
          if (shape.kind !== 'INPUT') break;
          for (const f of def.fields ?? []) if (!shape.fields.has(f.name.value)) shape.fields.set(f.name.value, { type: f.type, defaulted: f.defaultValue !== undefined });
          break;
        }
        case Kind.ENUM_TYPE_DEFINITION:
        case Kind.ENUM_TYPE_EXTENSION:
        case Kind.UNION_TYPE_DEFINITION:
        case Kind.UNION_TYPE_EXTENSION: {
          const kind = def.kind === Kind.ENUM_TYPE_DEFINITION || def.kind === Kind.ENUM_TYPE_EXTENSION ? 'ENUM' : 'UNION';
          const shape = types.get(name) ?? { kind, values: new Set<string>() };
          types.set(name, shape);
          if (shape.kind !== 'ENUM' && shape.kind !== 'UNION') break;
          if (def.kind === Kind.ENUM_TYPE_DEFINITION || def.kind === Kind.ENUM_TYPE_EXTENSION) for (const v of def.values ?? []) shape.values.add(v.name.value);
          else for (const t of def.types ?? []) shape.values.add(t.name.value);
          break;
        }
        case Kind.SCALAR_TYPE_DEFINITION:
          if (!types.has(name)) types.set(name, { kind: 'SCALAR' });
          break;
      }
    }
  }
  return types;
}

function namedType(t: TypeNode): string {
  return t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type);
}

/** A field's new type still gives every client what the old one did (it may only be stricter about null). */
function safeOutput(old: TypeNode, now: TypeNode): boolean {
  if (old.kind === Kind.LIST_TYPE) return (now.kind === Kind.LIST_TYPE && safeOutput(old.type, now.type)) || (now.kind === Kind.NON_NULL_TYPE && safeOutput(old, now.type));
  if (old.kind === Kind.NON_NULL_TYPE) return now.kind === Kind.NON_NULL_TYPE && safeOutput(old.type, now.type);
  return (now.kind === Kind.NAMED_TYPE && now.name.value === old.name.value) || (now.kind === Kind.NON_NULL_TYPE && safeOutput(old, now.type));
}

/** An argument's new type accepts every value the old one did (it may only be laxer about null). */
function safeInput(old: TypeNode, now: TypeNode): boolean {
  if (old.kind === Kind.LIST_TYPE) return now.kind === Kind.LIST_TYPE && safeInput(old.type, now.type);
  if (old.kind === Kind.NON_NULL_TYPE) return (now.kind === Kind.NON_NULL_TYPE && safeInput(old.type, now.type)) || (now.kind !== Kind.NON_NULL_TYPE && safeInput(old.type, now));
  return now.kind === Kind.NAMED_TYPE && now.name.value === old.name.value;
}

interface Finding {
  readonly coordinate: string;
  readonly change: string;
  readonly what: string;
  /** The field coordinates whose readers and datasets the change concerns. */
  readonly fields: readonly string[];
}

/** Changes of the client-facing schema that break a client written for the base, and fields made harder to read. */
function findings(oldTypes: Map<string, Shape>, newTypes: Map<string, Shape>, oldDecl: ReadonlyMap<string, Declaration>, newDecl: ReadonlyMap<string, Declaration>): Finding[] {
  // Which fields return a type or take it as an argument: the fields a change of that type reaches.
  const usedBy = new Map<string, string[]>();
  const use = (type: string, coordinate: string): void => {
    const list = usedBy.get(type) ?? [];
    if (!list.includes(coordinate)) list.push(coordinate);
    usedBy.set(type, list);
  };
  for (const [name, shape] of oldTypes) {
    if (shape.kind !== 'OBJECT' && shape.kind !== 'INTERFACE') continue;
    for (const [field, f] of shape.fields) {
      use(namedType(f.type), `${name}.${field}`);
      for (const a of f.args.values()) use(namedType(a.type), `${name}.${field}`);
    }
  }
  const fieldsOf = (name: string, shape: Shape): string[] => (shape.kind === 'OBJECT' || shape.kind === 'INTERFACE' ? [...shape.fields.keys()].map((f) => `${name}.${f}`) : []);
  const out: Finding[] = [];
  for (const [name, old] of oldTypes) {
    const now = newTypes.get(name);
    if (now === undefined) {
      out.push({ coordinate: name, change: 'TYPE_REMOVED', what: `type ${name} is removed`, fields: [...fieldsOf(name, old), ...(usedBy.get(name) ?? [])] });
      continue;
    }
    if (now.kind !== old.kind) {
      out.push({ coordinate: name, change: 'TYPE_KIND_CHANGED', what: `type ${name} changes from ${old.kind} to ${now.kind}`, fields: [...fieldsOf(name, old), ...(usedBy.get(name) ?? [])] });
      continue;
    }
    if ((old.kind === 'OBJECT' || old.kind === 'INTERFACE') && (now.kind === 'OBJECT' || now.kind === 'INTERFACE')) {
      for (const [field, f] of old.fields) {
        const coordinate = `${name}.${field}`;
        const g = now.fields.get(field);
        if (g === undefined) {
          out.push({ coordinate, change: 'FIELD_REMOVED', what: `field ${coordinate} is removed`, fields: [coordinate] });
          continue;
        }
        if (!safeOutput(f.type, g.type)) out.push({ coordinate, change: 'FIELD_TYPE_CHANGED', what: `field ${coordinate} changes type from ${print(f.type)} to ${print(g.type)}`, fields: [coordinate] });
        for (const [arg, a] of f.args) {
          const b = g.args.get(arg);
          if (b === undefined) out.push({ coordinate: `${coordinate}(${arg}:)`, change: 'ARG_REMOVED', what: `argument ${arg} of ${coordinate} is removed`, fields: [coordinate] });
          else if (!safeInput(a.type, b.type)) out.push({ coordinate: `${coordinate}(${arg}:)`, change: 'ARG_TYPE_CHANGED', what: `argument ${arg} of ${coordinate} changes type from ${print(a.type)} to ${print(b.type)}`, fields: [coordinate] });
        }
        for (const [arg, b] of g.args) {
          if (!f.args.has(arg) && b.type.kind === Kind.NON_NULL_TYPE && !b.defaulted) out.push({ coordinate: `${coordinate}(${arg}:)`, change: 'REQUIRED_ARG_ADDED', what: `${coordinate} gets a required argument ${arg}: ${print(b.type)}`, fields: [coordinate] });
        }
        out.push(...reclassed(coordinate, oldDecl.get(coordinate), newDecl.get(coordinate)));
      }
    } else if (old.kind === 'INPUT' && now.kind === 'INPUT') {
      for (const [field, f] of old.fields) {
        const g = now.fields.get(field);
        if (g === undefined) out.push({ coordinate: `${name}.${field}`, change: 'INPUT_FIELD_REMOVED', what: `input field ${name}.${field} is removed`, fields: usedBy.get(name) ?? [] });
        else if (!safeInput(f.type, g.type)) out.push({ coordinate: `${name}.${field}`, change: 'INPUT_FIELD_TYPE_CHANGED', what: `input field ${name}.${field} changes type from ${print(f.type)} to ${print(g.type)}`, fields: usedBy.get(name) ?? [] });
      }
      for (const [field, g] of now.fields) {
        if (!old.fields.has(field) && g.type.kind === Kind.NON_NULL_TYPE && !g.defaulted) out.push({ coordinate: `${name}.${field}`, change: 'REQUIRED_INPUT_FIELD_ADDED', what: `input ${name} gets a required field ${field}: ${print(g.type)}`, fields: usedBy.get(name) ?? [] });
      }
    } else if ((old.kind === 'ENUM' || old.kind === 'UNION') && (now.kind === 'ENUM' || now.kind === 'UNION')) {
      for (const v of old.values) {
        if (now.values.has(v)) continue;
        const enumValue = old.kind === 'ENUM';
        out.push({ coordinate: `${name}.${v}`, change: enumValue ? 'ENUM_VALUE_REMOVED' : 'UNION_MEMBER_REMOVED', what: enumValue ? `value ${v} of enum ${name} is removed` : `${v} is no longer a member of union ${name}`, fields: usedBy.get(name) ?? [] });
      }
    }
  }
  return out;
}

/** A field that stays but is harder to read: a more restrictive class, a sensitivity added, another dataset, or no dataset at all. */
function reclassed(coordinate: string, was: Declaration | undefined, now: Declaration | undefined): Finding[] {
  if (was === undefined) return [];
  const fields = [coordinate];
  if (now === undefined) return [{ coordinate, change: 'DECLARATION_REMOVED', what: `${coordinate} leaves dataset ${was.dataset} and belongs to none: the gateway denies it to every reader (NOT_CATALOGUED)`, fields }];
  const out: Finding[] = [];
  if (now.dataset !== was.dataset) out.push({ coordinate, change: 'DATASET_CHANGED', what: `${coordinate} moves from dataset ${was.dataset} to ${now.dataset}: grants of ${was.dataset} no longer open it`, fields });
  if (RANK[now.class] > RANK[was.class]) out.push({ coordinate, change: 'RECLASSIFIED', what: `${coordinate} is re-classed from ${was.class} to ${now.class}`, fields });
  if (was.sensitivity === null && now.sensitivity !== null) out.push({ coordinate, change: 'SENSITIVITY_ADDED', what: `${coordinate} becomes ${now.sensitivity}: reading it needs a confidentiality agreement (R-34)`, fields });
  return out;
}

function declarationsOf(subgraphs: readonly SubgraphSpec[]): Map<string, Declaration> {
  const out = new Map<string, Declaration>();
  for (const s of subgraphs) {
    const doc = tryParse(s.sdl);
    if (doc === null) continue;
    for (const d of readDeclarations(doc, s.name).declarations) if (!out.has(d.coordinate)) out.set(d.coordinate, d);
  }
  return out;
}

/** In force at `now`: from validFrom (inclusive) until validUntil (exclusive). */
function inForce(g: Grant, now: number): boolean {
  const from = Date.parse(g.validFrom);
  const until = Date.parse(g.validUntil);
  return (Number.isNaN(from) || from <= now) && (Number.isNaN(until) || now < until);
}

async function breakingChanges(base: readonly SubgraphSpec[], next: readonly SubgraphSpec[], now: Date, deps: CheckDeps): Promise<BreakingChange[]> {
  const oldDecl = declarationsOf(base);
  const found = findings(surface(base), surface(next), oldDecl, declarationsOf(next));
  if (found.length === 0) return [];
  const grants = [...(await deps.grants.snapshot()).grants.values()].filter((g) => inForce(g, now.getTime()));
  const days = { from: cstDate(new Date(now.getTime() - (READ_WINDOW_DAYS - 1) * 86_400_000)), to: cstDate(now) };
  const coordinates = [...new Set(found.flatMap((f) => f.fields))];
  const reads = await deps.reads.readers(coordinates, days);
  return found.map((f) => {
    const fields = new Set(f.fields);
    const datasetIds = [...new Set(f.fields.map((c) => oldDecl.get(c)?.dataset).filter((d): d is string => d !== undefined))].sort();
    const named = grants.filter((g) => datasetIds.includes(g.dataset)).sort((a, b) => a.id.localeCompare(b.id));
    const perAgency = new Map<string, number>();
    for (const r of reads) if (fields.has(r.coordinate)) perAgency.set(r.consumer, (perAgency.get(r.consumer) ?? 0) + r.reads);
    const readers: ReaderCount[] = [...perAgency].map(([agency, n]) => ({ agency, reads: n })).sort((a, b) => b.reads - a.reads || a.agency.localeCompare(b.agency));
    const grantText = datasetIds.length === 0 ? 'no dataset, no grants' : named.length === 0 ? `no grant in force names ${datasetIds.join(', ')}` : `grants in force naming ${datasetIds.join(', ')}: ${named.map((g) => `${g.id} (${g.consumer})`).join(', ')}`;
    const readText = readers.length === 0 ? `no agency read it in the last ${READ_WINDOW_DAYS} days` : `read in the last ${READ_WINDOW_DAYS} days by ${readers.map((r) => `${r.agency} (${r.reads})`).join(', ')}`;
    return { coordinate: f.coordinate, change: f.change, grants: named.map((g) => g.id), readers, message: `${f.what}; ${grantText}; ${readText} (${deps.reads.from})` };
  });
}

// ---- catalog diff ----

/** Every catalog attribute of a dataset as the diff compares it. */
function attributes(d: DatasetShape | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = { class: d?.class ?? null, sensitivity: d?.sensitivity ?? null };
  for (const a of Object.keys(ENTRY_ATTRIBUTES) as EntryAttribute[]) out[a] = entryValue(d?.entry, a);
  return out;
}

/**
 * The catalog before and after, attribute by attribute: class, sensitivity and every attribute of
 * the catalog entry; and each field that joins (`fields`, before null) or leaves (after null) a
 * dataset. A dataset added lists all its attributes with `before` null; one removed, with `after` null.
 */
function catalogDiff(before: readonly DatasetShape[], after: readonly DatasetShape[]): CatalogDiffEntry[] {
  const old = new Map(before.map((d) => [d.id, d]));
  const now = new Map(after.map((d) => [d.id, d]));
  const ids = [...new Set([...old.keys(), ...now.keys()])].sort();
  const out: CatalogDiffEntry[] = [];
  for (const dataset of ids) {
    const o = old.get(dataset);
    const n = now.get(dataset);
    const a = attributes(o);
    const b = attributes(n);
    for (const field of Object.keys(a)) if (a[field] !== b[field]) out.push({ dataset, field, before: a[field] ?? null, after: b[field] ?? null });
    const was = new Set(o?.coordinates ?? []);
    const is = new Set(n?.coordinates ?? []);
    for (const c of was) if (!is.has(c)) out.push({ dataset, field: 'fields', before: c, after: null });
    for (const c of is) if (!was.has(c)) out.push({ dataset, field: 'fields', before: null, after: c });
  }
  return out;
}
