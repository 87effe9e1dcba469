import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { changesNeedingAcceptance, datasetsOfSupergraph, diffCatalogs, type CatalogVersion } from '../../subgraphs/exchange/catalog/history.ts';
import { compose, referenceSubgraphs } from '../compose.ts';

/**
 * npm run compose [-- --accept]: writes schema/supergraph.graphql and records what changed in the
 * catalog in schema/catalog-history.json. A change that widens or breaks access is refused
 * unless accepted.
 */
const OUT = 'schema/supergraph.graphql';
const HISTORY = 'schema/catalog-history.json';

let accept = false;
try {
  accept = parseArgs({ options: { accept: { type: 'boolean', default: false } } }).values.accept === true;
} catch (e) {
  console.error(`compose: ${(e as Error).message}. Usage: npm run compose [-- --accept]`);
  process.exit(2);
}

const result = compose(referenceSubgraphs());
if (!result.ok) {
  console.error(`compose: refused, ${result.errors.length} problem(s):`);
  for (const e of result.errors) console.error(`  - ${e}`);
  process.exit(1);
}
const sdl = result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`;
const before = existsSync(OUT) ? datasetsOfSupergraph(readFileSync(OUT, 'utf8')) : [];
const changes = diffCatalogs(before, datasetsOfSupergraph(sdl));

// Datasets named by the shipped grant files (the authority's store is checked by the gateway).
const granted = new Set<string>();
for (const f of ['policies/grants.csv']) {
  if (!existsSync(f)) continue;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells[0] === 'p' && cells[3] !== undefined) granted.add(cells[3]);
  }
}
const warnings = changesNeedingAcceptance(changes, granted);
if (warnings.length > 0 && !accept) {
  console.error('compose: these catalog changes need --accept:');
  for (const w of warnings) console.error(`  - ${w}`);
  process.exit(1);
}
for (const w of warnings) console.warn(`compose: accepted: ${w}`);

writeFileSync(OUT, sdl);
if (changes.length > 0) {
  const history: CatalogVersion[] = existsSync(HISTORY) ? (JSON.parse(readFileSync(HISTORY, 'utf8')) as CatalogVersion[]) : [];
  history.push({ version: history.length + 1, at: new Date().toISOString(), changes });
  writeFileSync(HISTORY, `${JSON.stringify(history, null, 2)}\n`);
  console.log(`compose: wrote ${OUT}; catalog version ${history.length}: ${changes.map((c) => `${c.dataset} ${c.change}`).join(', ')}`);
} else {
  console.log(`compose: wrote ${OUT}; catalog unchanged`);
}
