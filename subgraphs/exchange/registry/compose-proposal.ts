import { parse, type DocumentNode } from 'graphql';
import purposes from '../../../schema/purposes.json' with { type: 'json' };
import { readDeclarations } from '../../../common/declarations.ts';
import type { CatalogEntry, ProposalTerms, SubgraphSpec, SupergraphVersion } from '../../../ledger/events.ts';
import { compose } from '../../compose.ts';
import { REFERENCE_SOURCES } from '../../descriptions.ts';

/** The members composition may name as providers, with the names field descriptions give them. */
export type MemberNames = Readonly<Record<string, { readonly name: string; readonly nameEn: string }>>;

export type ProposalComposition =
  | { readonly ok: true; readonly supergraphSdl: string; readonly subgraphs: readonly SubgraphSpec[]; readonly catalog: Readonly<Record<string, CatalogEntry>> }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The dataset ids an SDL declares (none when it does not parse: composition reports that). */
export function declaredDatasets(sdl: string): Set<string> {
  let doc: DocumentNode;
  try {
    doc = parse(sdl);
  } catch {
    return new Set();
  }
  return new Set(readDeclarations(doc, 'proposal').declarations.map((d) => d.dataset));
}

/** Newline-terminated, as `npm run compose` writes it, so equal supergraphs hash equal. */
export function normalisedSdl(sdl: string): string {
  return sdl.endsWith('\n') ? sdl : `${sdl}\n`;
}

/**
 * The supergraph a proposal would make of `base`: its subgraph replaces the one of the same name
 * (or joins the others), and the catalog keeps every other entry, takes the proposal's entries,
 * and drops the datasets the subgraph declared before but no longer does. Composition checks the
 * declarations (one source per dataset and field, a subgraph declares only its member's datasets)
 * and writes every field's description from this catalog and these members' names.
 */
export function composeProposal(base: SupergraphVersion, proposal: ProposalTerms, members: MemberNames = REFERENCE_SOURCES.agencies): ProposalComposition {
  const next = proposal.subgraph;
  const replaced = base.subgraphs.find((s) => s.name === next.name);
  const subgraphs = replaced === undefined ? [...base.subgraphs, next] : base.subgraphs.map((s) => (s.name === next.name ? next : s));

  const declared = declaredDatasets(next.sdl);
  const catalog: Record<string, CatalogEntry> = { ...base.catalog };
  if (replaced !== undefined) for (const d of declaredDatasets(replaced.sdl)) if (!declared.has(d)) delete catalog[d];
  Object.assign(catalog, proposal.catalog);
  const errors = [...declared].filter((d) => catalog[d] === undefined).map((d) => `${next.name}: dataset ${d} has no catalog entry: add one to the proposal's catalog`);

  let result: ReturnType<typeof compose>;
  try {
    result = compose(
      subgraphs.map((s) => ({ name: s.name, agency: s.member, url: s.url, sdl: s.sdl })),
      { isMember: (code) => Object.hasOwn(members, code), sources: { datasets: catalog, purposes, agencies: members } },
    );
  } catch (e) {
    // Composition's own invariants can throw on a schema it cannot read; that is the proposal's problem.
    result = { ok: false, errors: [`composition failed: ${(e as Error).message}`] };
  }
  if (!result.ok) return { ok: false, errors: [...errors, ...result.errors] };
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, supergraphSdl: normalisedSdl(result.supergraphSdl), subgraphs, catalog };
}
