import { auditReader } from '../gateway/audit/reader.ts';
import { loadSubgraph } from '../subgraphs/index.ts';
import { SUBGRAPHS } from '../subgraphs/registry.ts';
import { startSubgraphServer, type RunningSubgraph } from '../subgraphs/shared/server.ts';
import { gatewayPublicKey } from '../gateway/identity/gateway-keys.ts';
import { configOrExit, die, onShutdown, startFailure } from './run.ts';

/** The whole reference exchange in one process: every subgraph on its reference port, then the gateway. */
const config = configOrExit();
// Loaded after the configuration is known good, so a bad value fails fast with one line.
const { startGateway } = await import('../gateway/server.ts');
// Made before any subgraph starts, so that every one verifies with the key the gateway will sign with.
const publicKey = gatewayPublicKey(config);
const env = { dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, supergraphPath: config.supergraphPath, auditReader: auditReader(config), archiveUrl: config.archiveUrl, logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls };
const running: RunningSubgraph[] = [];
const closeAll = async (): Promise<void> => {
  await Promise.allSettled(running.map((s) => s.close()));
};
for (const info of SUBGRAPHS) {
  try {
    running.push(await startSubgraphServer(await loadSubgraph(info.name, env), { host: config.host, port: info.port, gatewayPublicKey: publicKey }));
  } catch (e) {
    await closeAll();
    die(startFailure(`subgraph ${info.name}`, e, config.redisUrl));
  }
}
try {
  const gw = await startGateway(config, { buildWebAtStart: true });
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
