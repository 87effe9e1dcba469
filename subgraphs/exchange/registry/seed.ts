import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import datasets from '../../../schema/catalog/datasets.json' with { type: 'json' };
import type { CatalogEntry, SupergraphVersion } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import type { Registry } from '../../../ledger/registry.ts';
import { compose, referenceSubgraphs } from '../../compose.ts';
import { SUBGRAPHS } from '../../registry.ts';
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

/** What `npm run compose` writes beside the supergraph, so that a start can tell the reference composition by hashes alone. */
export interface SeedFile {
  /** sha256 of the supergraph file it wrote. */
  readonly supergraph: string;
  /** sha256 over what it was composed from: each reference subgraph's schema file and the catalog, agencies and purposes files. */
  readonly inputs: string;
}

export const SEED_FILE = 'schema/supergraph.seed.json';

function inputsHash(root: string): string {
  const files = [...SUBGRAPHS.map((s) => `subgraphs/${s.name}/schema.graphql`), 'schema/catalog/datasets.json', 'schema/agencies.json', 'schema/purposes.json'];
  return sha256(JSON.stringify(files.map((f) => [f, readFileSync(path.join(root, f), 'utf8')])));
}

/** The seed file for a supergraph just composed from the files under `root`. */
export function seedFileOf(supergraphText: string, root: string): SeedFile {
  return { supergraph: sha256(supergraphText), inputs: inputsHash(root) };
}

/**
 * Version 1 as the reference exchange starts: the reference subgraphs (their schema files, the
 * member that runs each), the catalog file, and `supergraphText` as the supergraph, with the URLs
 * it names. Only when `supergraphText` is the reference composition, told by the hashes `npm run
 * compose` wrote (composing again at every first start would cost a second or more on a busy
 * machine): a supergraph an operator composed otherwise is not one the registry can build on, so
 * the reason comes back instead.
 */
export function referenceVersion(supergraphText: string): { readonly version: SupergraphVersion } | { readonly why: string } {
  let seed: SeedFile;
  try {
    seed = JSON.parse(readFileSync(path.join(ROOT, SEED_FILE), 'utf8')) as SeedFile;
  } catch (e) {
    return { why: `${SEED_FILE} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): run npm run compose` };
  }
  const hash = sha256(supergraphText);
  if (hash !== seed.supergraph) return { why: `the supergraph served (sha256 ${hash.slice(0, 12)}) is not the reference composition (sha256 ${seed.supergraph.slice(0, 12)})` };
  if (inputsHash(ROOT) !== seed.inputs) return { why: 'the reference subgraphs or catalog changed since npm run compose wrote the supergraph: run npm run compose' };
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
