import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configOrExit } from '../bin/config.ts';
import { die } from '../bin/run.ts';
import { changesNeedingAcceptance, classificationProblems, datasetsOfSupergraph, diffCatalogs, type CatalogVersion } from '../subgraphs/exchange/catalog/history.ts';
import { compose, referenceSubgraphs } from '../subgraphs/compose.ts';
import { readCatalog } from '../gateway/sharing/catalog.ts';
import { activeGrantedDatasets } from '../gateway/sharing/policy-files.ts';
import { SEED_FILE, seedFileOf } from '../subgraphs/exchange/registry/seed.ts';

/**
 * npm run compose [-- --accept]: writes schema/supergraph.graphql and records what changed in the
 * catalog in schema/catalog-history.json. A change that widens or breaks access is refused
 * unless accepted. Grants count from POLICY_DIR and from the authority's store (DATA_DIR, or Redis
 * with REDIS_URL), as the gateway sees them.
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
const beforeSdl = existsSync(OUT) ? readFileSync(OUT, 'utf8') : null;
const before = beforeSdl === null ? [] : datasetsOfSupergraph(beforeSdl);
const after = datasetsOfSupergraph(sdl);
const illegal = classificationProblems(after);
if (illegal.length > 0) {
  console.error('compose: refused, these classifications are never allowed (not even with --accept):');
  for (const p of illegal) console.error(`  - ${p}`);
  process.exit(1);
}
const changes = diffCatalogs(before, after);

// Grants are read against the catalog they were written for: the supergraph being replaced.
const granted = beforeSdl === null ? new Set<string>() : await activeGrantedDatasets(readCatalog(beforeSdl), configOrExit(), Date.now()).catch((e: unknown) => die(`compose: cannot read the grants in force: ${(e as Error).message}`));
const warnings = changesNeedingAcceptance(changes, granted);
if (warnings.length > 0 && !accept) {
  console.error('compose: these catalog changes need --accept:');
  for (const w of warnings) console.error(`  - ${w}`);
  process.exit(1);
}
for (const w of warnings) console.warn(`compose: accepted: ${w}`);

writeFileSync(OUT, sdl);
// Beside it, the hashes by which the exchange's first start knows this is the reference composition.
writeFileSync(SEED_FILE, `${JSON.stringify(seedFileOf(sdl, process.cwd()), null, 2)}\n`);
if (changes.length > 0) {
  const history: CatalogVersion[] = existsSync(HISTORY) ? (JSON.parse(readFileSync(HISTORY, 'utf8')) as CatalogVersion[]) : [];
  history.push({ version: history.length + 1, at: new Date().toISOString(), changes });
  writeFileSync(HISTORY, `${JSON.stringify(history, null, 2)}\n`);
  console.log(`compose: wrote ${OUT}; catalog version ${history.length}: ${changes.map((c) => `${c.dataset} ${c.change}`).join(', ')}`);
} else {
  console.log(`compose: wrote ${OUT}; catalog unchanged`);
}
