import path from 'node:path';
import {
  archiveUrlValue,
  ConfigError,
  envString,
  exchangeRegionValue,
  gatewayIdentityValue,
  portValue,
  redisPrefixValue,
  redisUrlValue,
  subgraphServerTlsValue,
  type Env,
  type GatewayIdentityConfig,
  type SubgraphServerTls,
} from '../../common/config-values.ts';
import { logSigningKeyValue, witnessUrlsValue } from '../../ledger/log/log-trust-values.ts';

/**
 * What a host running only subgraphs reads from its environment: no gateway setting, so that it
 * never loads gateway code. Read and validated once; every problem reported together.
 */
export interface SubgraphHostConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  /** EXCHANGE_REGION: the GB/T 2260 division the exchange serves (default 445200). */
  readonly region: string;
  readonly supergraphPath: string;
  /** POLICY_DIR (default policies): the standing grants a registry check lists, as the gateway enforces them. */
  readonly policyDir: string;
  readonly archiveUrl: string | null;
  /** What identities are verified with (GATEWAY_PUBLIC_KEY, or the development pair in DATA_DIR/keys). */
  readonly gatewayIdentity: GatewayIdentityConfig;
  /** SUBGRAPH_TLS_CERT/KEY (and SUBGRAPH_TLS_CLIENT_CA): serve HTTPS instead of plain HTTP; null = plain HTTP. */
  readonly tls: SubgraphServerTls | null;
  /** LOG_SIGNING_KEY: what the exchange subgraph seals its ledger writes with; null = the development key. */
  readonly logSigningKey: string | null;
  /** WITNESS_URLS: the off-host witnesses of the ledger's heads. */
  readonly witnessUrls: readonly string[];
}

export function loadSubgraphHostConfig(env: Env, defaults: { readonly port?: number } = {}): SubgraphHostConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => envString(env, name);
  const dataDir = path.resolve(str('DATA_DIR') ?? 'data');
  const config: SubgraphHostConfig = Object.freeze({
    port: portValue(str('PORT'), defaults.port ?? 4001, problems),
    host: str('HOST') ?? '127.0.0.1',
    dataDir,
    redisUrl: redisUrlValue(str('REDIS_URL'), problems),
    redisPrefix: redisPrefixValue(str('REDIS_PREFIX'), problems),
    region: exchangeRegionValue(str('EXCHANGE_REGION'), problems),
    supergraphPath: path.resolve(str('SUPERGRAPH_PATH') ?? 'schema/supergraph.graphql'),
    policyDir: path.resolve(str('POLICY_DIR') ?? 'policies'),
    archiveUrl: archiveUrlValue(str('ARCHIVE_URL'), problems),
    gatewayIdentity: gatewayIdentityValue(env, problems),
    tls: subgraphServerTlsValue(env, problems),
    logSigningKey: logSigningKeyValue(str('LOG_SIGNING_KEY'), dataDir, problems),
    witnessUrls: witnessUrlsValue(str('WITNESS_URLS'), problems),
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
