import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auditReader } from '../../ledger/audit-reader.ts';
import { loadConfig, type Config } from '../../gateway/config.ts';
import { verificationKey } from '../../gateway/identity/keys.ts';
import { signToken } from '../../gateway/identity/token.ts';
import { consoleLogger, silentLogger, type Logger } from '../../gateway/log.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { SUBGRAPHS } from '../../subgraphs/registry.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { gatewayPublicKey } from '../../common/trust-keys.ts';
import { startSpy, type Spy } from './spy.ts';

export { ROOT } from './root.ts';
import { ROOT } from './root.ts';

export interface GraphQLResponse {
  readonly status: number;
  readonly body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
  readonly headers: Headers;
}

export interface QueryOptions {
  readonly agency?: string;
  readonly roles?: readonly string[];
  readonly purpose?: string;
  readonly variables?: Record<string, unknown>;
  readonly operationName?: string;
  /** A raw Authorization header instead of a minted token ('' = none). */
  readonly authorization?: string;
}

export interface Exchange {
  readonly url: string;
  readonly config: Config;
  readonly gateway: RunningGateway;
  readonly subgraphs: ReadonlyMap<string, RunningSubgraph>;
  readonly spies: ReadonlyMap<string, Spy>;
  /** What the first gateway has logged so far, one entry per line ("warn policy ... refused ..."). */
  readonly logLines: readonly string[];
  token: (agency: string, roles?: readonly string[], ttlSeconds?: number) => string;
  query(query: string, opts?: QueryOptions): Promise<GraphQLResponse>;
  /** Starts another gateway on the same subgraphs and DATA_DIR (e.g. a second instance). */
  startAnotherGateway(env?: Record<string, string>): Promise<RunningGateway>;
  close(): Promise<void>;
}

export interface ExchangeOptions {
  /** Extra environment for the gateway (REDIS_URL, UNCLASSIFIED_FIELDS, ...). */
  readonly env?: Record<string, string>;
  /** Put a recording proxy in front of every subgraph. */
  readonly spy?: boolean;
  /** Copy policies/ to a temporary POLICY_DIR the test may edit. */
  readonly copyPolicies?: boolean;
  /** Reuse this DATA_DIR instead of a fresh temporary one (kept on close). */
  readonly dataDir?: string;
  /** The clock of the gateway's decisions and the exchange's deadlines (ms since 1970); tests move it instead of waiting. */
  readonly clock?: () => number;
}

/** A real exchange on free loopback ports: every subgraph over HTTP and the real gateway. */
export async function startExchange(opts: ExchangeOptions = {}): Promise<Exchange> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-test-'));
  const dataDir = opts.dataDir ?? path.join(tmp, 'data');
  const policyDir = path.join(tmp, 'policies');
  if (opts.copyPolicies === true) cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
  const baseEnv: Record<string, string> = {
    DATA_DIR: dataDir,
    POLICY_DIR: opts.copyPolicies === true ? policyDir : path.join(ROOT, 'policies'),
    SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'),
    PORT: '0',
    ...opts.env,
  };
  const subConfig = loadConfig(baseEnv);
  const clock = opts.clock;
  const publicKey = gatewayPublicKey(subConfig);
  const subgraphs = new Map<string, RunningSubgraph>();
  const spies = new Map<string, Spy>();
  const env = { dataDir: subConfig.dataDir, redisUrl: subConfig.redisUrl, redisPrefix: subConfig.redisPrefix, region: subConfig.region, supergraphPath: subConfig.supergraphPath, policyDir: subConfig.policyDir, auditReader: auditReader(subConfig), archiveUrl: subConfig.archiveUrl, logSigningKey: subConfig.logSigningKey, witnessUrls: subConfig.witnessUrls, ...(clock === undefined ? {} : { now: () => new Date(clock()) }) };
  for (const info of SUBGRAPHS) {
    const running = await startSubgraphServer(await loadSubgraph(info.name, env), { host: '127.0.0.1', port: 0, gatewayPublicKey: publicKey });
    subgraphs.set(info.name, running);
    if (opts.spy === true) spies.set(info.name, await startSpy(running.url));
  }
  const urlEnv: Record<string, string> = {};
  for (const [name, s] of subgraphs) urlEnv[`SUBGRAPH_URL_${name.toUpperCase()}`] = spies.get(name)?.url ?? s.url;
  const gatewayEnv = { ...baseEnv, ...urlEnv, ...opts.env };
  const config = loadConfig(gatewayEnv);
  const gateways: RunningGateway[] = [];
  const logLines: string[] = [];
  const echo = process.env.EXCHANGE_TEST_LOG ? consoleLogger('gateway') : silentLogger;
  const log: Logger = {
    info: (m) => (logLines.push(`info ${m}`), echo.info(m)),
    warn: (m) => (logLines.push(`warn ${m}`), echo.warn(m)),
    error: (m, err) => (logLines.push(`error ${m}`), echo.error(m, err)),
  };
  const gateway = await startGateway(config, { log, ...(clock === undefined ? {} : { clock }) });
  gateways.push(gateway);
  const key = verificationKey(config);

  const token = (agency: string, roles: readonly string[] = [], ttlSeconds = 600): string =>
    signToken(key, { agency, roles, ttlSeconds, sub: `${agency}-tester` }, { issuer: config.jwtIssuer, audience: config.jwtAudience });

  return {
    url: gateway.url,
    config,
    gateway,
    subgraphs,
    spies,
    logLines,
    token,
    query: (query, q = {}) => postGraphQL(gateway.url, query, q, token),
    async startAnotherGateway(extra = {}) {
      const gw = await startGateway(loadConfig({ ...gatewayEnv, ...extra }), { log: silentLogger });
      gateways.push(gw);
      return gw;
    },
    async close() {
      for (const gw of gateways) await gw.close();
      for (const s of spies.values()) await s.close();
      for (const s of subgraphs.values()) await s.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export async function postGraphQL(url: string, query: string, q: QueryOptions, token: (agency: string, roles?: readonly string[]) => string): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const authorization = q.authorization ?? `Bearer ${token(q.agency ?? 'tax', q.roles ?? [])}`;
  if (authorization !== '') headers['authorization'] = authorization;
  if (q.purpose !== undefined) headers['x-purpose'] = q.purpose;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: q.variables, operationName: q.operationName }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as GraphQLResponse['body'], headers: res.headers };
}
