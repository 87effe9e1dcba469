import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import datasets from '../../../schema/catalog/datasets.json' with { type: 'json' };
import type { CatalogEntry, SupergraphVersion } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import type { Registry } from '../../../ledger/registry.ts';
import { compose, referenceSubgraphs } from '../../compose.ts';
import { normalisedSdl } from './compose-proposal.ts';

/** The repository root: the reference subgraphs' schema files are read from here, not from the working directory. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The catalog file's entries as the registry keeps them (a null lastUpdate is simply absent). */
export function referenceCatalog(): Record<string, CatalogEntry> {
  const out: Record<string, CatalogEntry> = {};
  for (const [id, e] of Object.entries(datasets as Record<string, Omit<CatalogEntry, 'lastUpdate'> & { lastUpdate?: string | null }>)) {
    const { lastUpdate, ...rest } = e;
    out[id] = lastUpdate === null || lastUpdate === undefined ? rest : { ...rest, lastUpdate };
  }
  return out;
}

/** Subgraph name → URL, from a supergraph's `join__Graph` enum. */
export function graphUrls(supergraphSdl: string): Map<string, string> {
  return new Map([...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map((m) => [m[1]!, m[2]!]));
}

/**
 * Version 1 as the reference exchange starts: the reference subgraphs (their schema files, the
 * member that runs each), the catalog file, and `supergraphText` as the supergraph, with the URLs
 * it names. Only when `supergraphText` is the reference composition: a supergraph an operator
 * composed otherwise is not one the registry can build on, so the reason comes back instead.
 */
export function referenceVersion(supergraphText: string): { readonly version: SupergraphVersion } | { readonly why: string } {
  const composed = compose(referenceSubgraphs(ROOT));
  if (!composed.ok) return { why: `the reference subgraphs do not compose (${composed.errors[0] ?? 'no supergraph'})` };
  const hash = sha256(supergraphText);
  const reference = sha256(normalisedSdl(composed.supergraphSdl));
  if (hash !== reference) return { why: `the supergraph served (sha256 ${hash.slice(0, 12)}) is not the reference composition (sha256 ${reference.slice(0, 12)})` };
  return { version: versionOf(supergraphText) };
}

function versionOf(supergraphText: string): SupergraphVersion {
  const urls = graphUrls(supergraphText);
  return {
    version: 1,
    hash: sha256(supergraphText),
    supergraphSdl: supergraphText,
    subgraphs: referenceSubgraphs(ROOT).map((s) => ({ name: s.name, member: s.agency, url: urls.get(s.name) ?? s.url, sdl: s.sdl })),
    catalog: referenceCatalog(),
    proposal: null,
    rollbackOf: null,
    reasons: 'the reference composition, recorded on first start',
  };
}

/** What a check compares with while no version is published: the reference composition, as version 0 (recorded nowhere). */
export function referenceBase(): SupergraphVersion {
  const composed = compose(referenceSubgraphs(ROOT));
  if (!composed.ok) throw new Error(`the reference subgraphs do not compose: ${composed.errors.join('; ')}`);
  return { ...versionOf(normalisedSdl(composed.supergraphSdl)), version: 0 };
}

class AlreadySeeded extends Error {}

/**
 * Records version 1 once, on the first start of the authority's subgraph: nothing when the ledger
 * already has a published version (another process may have recorded it a moment ago: decided on
 * the ledger, so never twice), and one line to `log` saying why when the supergraph at
 * `supergraphPath` is not the reference composition.
 */
export async function seedRegistry(ledger: Ledger, registry: Registry, supergraphPath: string, log: (line: string) => void): Promise<void> {
  await registry.sync();
  if (registry.current() !== null) return;
  const seed = referenceVersion(readFileSync(supergraphPath, 'utf8'));
  if ('why' in seed) {
    log(`registry: no supergraph version recorded: ${seed.why}; proposals cannot be approved until one is published`);
    return;
  }
  try {
    await ledger.decide(
      registry.projection,
      () => {
        if (registry.current() !== null) throw new AlreadySeeded();
        return { type: 'supergraph.published', data: seed.version };
      },
      null,
    );
  } catch (e) {
    if (!(e instanceof AlreadySeeded)) throw e;
  }
}
