import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../gateway/config.ts';
import { silentLogger } from '../gateway/log.ts';
import { loadSubgraph } from '../subgraphs/index.ts';
import { SUBGRAPHS } from '../subgraphs/registry.ts';
import { startSubgraphServer } from '../subgraphs/kit/server.ts';
import { gatewayPublicKey } from '../common/trust-keys.ts';
import { gatewaySigningKey } from '../gateway/identity/gateway-keys.ts';
import { startBareGateway } from './bare.ts';

/**
 * The processes the benchmark drives, each started as `tsx bench/processes.ts <role>` so that the
 * load generator, the gateway and the subgraphs do not share an event loop. Each prints one JSON
 * line when ready.
 */
const role = process.argv[2];
const config = loadConfig();

// Started with an IPC channel, tsx relays SIGTERM instead of ending the process: end it here.
process.on('SIGTERM', () => process.exit(0));
// The runner asks each process for its CPU time over a measured window (IPC, no extra socket).
process.on('message', (m: unknown) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  else if (m === 'mem') process.send?.({ rss: process.memoryUsage().rss });
});

if (role === 'subgraphs') {
  const publicKey = gatewayPublicKey(config);
  const counts: Record<string, number> = {};
  const urls: Record<string, string> = {};
  const env = { dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, region: config.region, supergraphPath: config.supergraphPath, policyDir: config.policyDir, logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls };
  for (const info of SUBGRAPHS) {
    counts[info.name] = 0;
    const running = await startSubgraphServer(await loadSubgraph(info.name, env), {
      host: '127.0.0.1',
      port: 0,
      gatewayPublicKey: publicKey,
      onRequest: () => {
        counts[info.name]! += 1;
      },
    });
    urls[info.name] = running.url;
  }
  // Request counters, read and reset by the runner between scenarios.
  const stats = createServer((req, res) => {
    const body = JSON.stringify(counts);
    if (req.method === 'POST') for (const k of Object.keys(counts)) counts[k] = 0;
    res.end(body);
  });
  await new Promise<void>((resolve) => stats.listen(0, '127.0.0.1', () => resolve()));
  console.log(JSON.stringify({ urls, stats: `http://127.0.0.1:${(stats.address() as AddressInfo).port}/` }));
} else if (role === 'bare') {
  const urls = new Map<string, string>(config.subgraphUrls);
  const gw = await startBareGateway({ supergraphSdl: readFileSync(config.supergraphPath, 'utf8'), subgraphUrls: urls, signingKey: gatewaySigningKey(config).privateKeyPem });
  console.log(JSON.stringify({ url: gw.url }));
} else if (role === 'apollo-default' || role === 'hive') {
  const { startDefaultApollo, startHive } = await import('./peers.ts');
  const opts = { supergraphSdl: readFileSync(config.supergraphPath, 'utf8'), subgraphUrls: new Map<string, string>(config.subgraphUrls), signingKey: gatewaySigningKey(config).privateKeyPem };
  const gw = role === 'hive' ? await startHive(opts) : await startDefaultApollo(opts);
  console.log(JSON.stringify({ url: gw.url }));
} else if (role === 'governed' || role === 'governed-no-audit') {
  const { startGateway } = await import('../gateway/server.ts');
  // Audit off: every record accepted and dropped at once, to price the audit alone.
  const discard = { kind: 'file' as const, append: async () => undefined, query: async () => ({ records: [], next: null }), stats: () => ({ appends: 0, records: 0, syncs: 0 }), writable: () => true, close: async () => undefined };
  // Silent but for the backups its background process made: the runner asks how many (IPC), to
  // show that they ran while the load was measured.
  let backups = 0;
  const log = { ...silentLogger, info: (line: string) => (/^backup: made /.test(line) ? backups++ : undefined) };
  const gw = await startGateway(config, { log, ...(role === 'governed-no-audit' ? { auditStore: discard } : {}) });
  process.on('message', (m: unknown) => {
    if (m === 'backups') process.send?.({ backups });
  });
  // Closed, not just ended: its background process finishes its work before the next scenario runs.
  process.removeAllListeners('SIGTERM');
  process.on('SIGTERM', () => void gw.close().finally(() => process.exit(0)));
  console.log(JSON.stringify({ url: gw.url }));
} else if (role === 'micro') {
  // In a process of its own, so that the minutes of load before it leave no heap behind.
  const { runMicro } = await import('./micro.ts');
  // The ledger's Redis figure uses the machine's Redis (its own key prefix) when it answers.
  console.log(JSON.stringify(await runMicro(path.join(config.dataDir, 'micro'), config.redisUrl ?? 'redis://127.0.0.1:6379')));
  process.exit(0);
} else {
  console.error('usage: tsx bench/processes.ts subgraphs|bare|apollo-default|hive|governed|governed-no-audit|micro');
  process.exit(2);
}
