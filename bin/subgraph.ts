import { loadSubgraphHostConfig } from '../subgraphs/kit/host-config.ts';
import { gatewayPublicKey } from '../common/trust-keys.ts';
import { auditReader } from '../ledger/audit-reader.ts';
import { loadSubgraph } from '../subgraphs/index.ts';
import { subgraphInfo, SUBGRAPHS } from '../subgraphs/registry.ts';
import { startSubgraphServer } from '../subgraphs/kit/server.ts';
import { die, loadedOrExit, onShutdown, startFailure } from './run.ts';

// A subgraph host loads no gateway code: its configuration, keys and log reader all live below gateway/.
const name = process.argv[2];
const info = name === undefined ? undefined : subgraphInfo(name);
if (info === undefined) die(`usage: npm run subgraph -- <name>, name one of ${SUBGRAPHS.map((s) => s.name).join(', ')}`);
const config = loadedOrExit(() => loadSubgraphHostConfig(process.env, { port: info.port }));
try {
  const def = await loadSubgraph(info.name, { dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, region: config.region, supergraphPath: config.supergraphPath, policyDir: config.policyDir, auditReader: auditReader(config), archiveUrl: config.archiveUrl, logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls });
  const running = await startSubgraphServer(def, { host: config.host, port: config.port, gatewayPublicKey: gatewayPublicKey(config), tls: config.tls });
  process.stderr.write(`subgraph ${info.name} (agency ${info.agency}) at ${running.url}\n`);
  onShutdown(() => running.close());
} catch (e) {
  die(startFailure(`subgraph ${info.name}`, e, config.redisUrl));
}
