import { writeFileSync } from 'node:fs';
import { compose, referenceSubgraphs } from '../compose.ts';

const out = 'schema/supergraph.graphql';
const result = compose(referenceSubgraphs());
if (!result.ok) {
  console.error(`compose: refused, ${result.errors.length} problem(s):`);
  for (const e of result.errors) console.error(`  - ${e}`);
  process.exit(1);
}
writeFileSync(out, result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`);
console.log(`compose: wrote ${out}`);
