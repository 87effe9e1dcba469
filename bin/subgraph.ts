import { auditReader } from '../gateway/audit/reader.ts';
import { loadSubgraph } from '../subgraphs/index.ts';
import { subgraphInfo, SUBGRAPHS } from '../subgraphs/registry.ts';
import { startSubgraphServer } from '../subgraphs/shared/server.ts';
import { gatewayPublicKey } from '../gateway/identity/gateway-keys.ts';
import { configOrExit, die, onShutdown, startFailure } from './run.ts';

const name = process.argv[2];
const info = name === undefined ? undefined : subgraphInfo(name);
if (info === undefined) die(`usage: npm run subgraph -- <name>, name one of ${SUBGRAPHS.map((s) => s.name).join(', ')}`);
const config = configOrExit({ port: info.port });
try {
  const def = await loadSubgraph(info.name, { dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, supergraphPath: config.supergraphPath, auditReader: auditReader(config), archiveUrl: config.archiveUrl, logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls });
  const running = await startSubgraphServer(def, { host: config.host, port: config.port, gatewayPublicKey: gatewayPublicKey(config) });
  process.stderr.write(`subgraph ${info.name} (agency ${info.agency}) at ${running.url}\n`);
  onShutdown(() => running.close());
} catch (e) {
  die(startFailure(`subgraph ${info.name}`, e, config.redisUrl));
}
