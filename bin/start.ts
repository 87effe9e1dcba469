import { auditReader } from '../ledger/audit-reader.ts';
import { loadSubgraph } from '../subgraphs/index.ts';
import { SUBGRAPHS } from '../subgraphs/registry.ts';
import { startSubgraphServer, type RunningSubgraph } from '../subgraphs/kit/server.ts';
import { gatewayPublicKey } from '../common/trust-keys.ts';
import { loadSubgraphHostConfig } from '../subgraphs/kit/host-config.ts';
import { configOrExit } from './config.ts';
import { die, loadedOrExit, onShutdown, startFailure } from './run.ts';

/** The whole reference exchange in one process: every subgraph on its reference port, then the gateway. */
const config = configOrExit();
// SUBGRAPH_TLS_CERT/KEY apply to the subgraphs started here as to `npm run subgraph`.
const { tls } = loadedOrExit(() => loadSubgraphHostConfig(process.env));
// Loaded after the configuration is known good, so a bad value fails fast with one line.
const { startGateway } = await import('../gateway/server.ts');
// Made before any subgraph starts, so that every one verifies with the key the gateway will sign with.
const publicKey = gatewayPublicKey(config);
const env = { dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, region: config.region, supergraphPath: config.supergraphPath, policyDir: config.policyDir, auditReader: auditReader(config), archiveUrl: config.archiveUrl, logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls };
const running: RunningSubgraph[] = [];
const closeAll = async (): Promise<void> => {
  await Promise.allSettled(running.map((s) => s.close()));
};
for (const info of SUBGRAPHS) {
  try {
    running.push(await startSubgraphServer(await loadSubgraph(info.name, env), { host: config.host, port: info.port, gatewayPublicKey: publicKey, tls }));
  } catch (e) {
    await closeAll();
    die(startFailure(`subgraph ${info.name}`, e, config.redisUrl));
  }
}
try {
  // The supergraph names http:// URLs; subgraphs serving HTTPS here are reached at their https:// ones.
  const urls = new Map(config.subgraphUrls);
  if (tls !== null) for (const s of running) if (!urls.has(s.name)) urls.set(s.name, s.url);
  const gw = await startGateway({ ...config, subgraphUrls: urls }, { buildWebAtStart: true });
  process.stderr.write(
    `exchange running: ${running.length} subgraphs (${running.map((s) => `${s.name}:${s.port}`).join(' ')}), gateway at ${gw.url}\n` +
      `try: TOKEN=$(npm run -s token -- --agency tax) and see README "First query"; in a browser: ${gw.url.replace(/\/graphql$/, '/console')} (console) and ${gw.url} (explorer)\n`,
  );
  onShutdown(async () => {
    await gw.close();
    await closeAll();
  });
} catch (e) {
  await closeAll();
  die(startFailure('gateway', e, config.redisUrl));
}
