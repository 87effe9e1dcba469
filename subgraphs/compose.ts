import { readFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './registry.ts';
import { checkDeclarations } from '../common/declarations.ts';
import { describeFields, REFERENCE_SOURCES, type DescriptionSources } from './descriptions.ts';

export type ComposeResult =
  | { readonly ok: true; readonly supergraphSdl: string; readonly hints: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface SubgraphSource {
  readonly name: string;
  readonly agency: string;
  readonly url: string;
  readonly sdl: string;
}

/** The reference subgraphs as compose sees them: their schema files and reference URLs. */
export function referenceSubgraphs(root = process.cwd()): SubgraphSource[] {
  return SUBGRAPHS.map((s) => ({
    name: s.name,
    agency: s.agency,
    url: `http://127.0.0.1:${s.port}/graphql`,
    sdl: readFileSync(path.join(root, 'subgraphs', s.name, 'schema.graphql'), 'utf8'),
  }));
}

/**
 * Where composition takes the members and the catalog from: the reference files by default; the
 * registry's members and a version's catalog when a proposal is composed at run time.
 */
export interface ComposeOptions {
  readonly isMember?: (code: string) => boolean;
  readonly sources?: DescriptionSources;
}

/** Composes subgraphs into a supergraph; refuses two sources for one catalogued item. */
export function compose(subgraphs: readonly SubgraphSource[], opts: ComposeOptions = {}): ComposeResult {
  const problems = checkDeclarations(subgraphs, opts.isMember);
  if (problems.length > 0) return { ok: false, errors: problems };
  const result = composeServices(
    // Descriptions are generated here, from the declarations composition has just checked.
    subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: describeFields(parse(s.sdl), opts.sources ?? REFERENCE_SOURCES) })),
  );
  if (result.errors !== undefined && result.errors.length > 0) {
    return { ok: false, errors: result.errors.map((e) => e.message) };
  }
  if (result.supergraphSdl === undefined) return { ok: false, errors: ['composition produced no supergraph'] };
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: result.hints.map((h) => h.toString()) };
}
