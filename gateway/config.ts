import path from 'node:path';
import {
  archiveUrlValue,
  ConfigError,
  envString,
  exchangeRegionValue,
  gatewayIdentityValue,
  pemOrFile,
  portValue,
  redisPrefixValue,
  redisUrlValue,
  subgraphClientTlsValue,
  type GatewayIdentityConfig,
  type SubgraphClientTls,
} from '../common/config-values.ts';
import { logSigningKeyValue, witnessUrlsValue } from '../ledger/log/log-trust-values.ts';
import { connectionLimitsFrom, type ConnectionLimits } from './http/connections.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './limits.ts';

export { ConfigError } from '../common/config-values.ts';

/**
 * The whole environment, read and validated once (docs/configuration.md). Nothing reads process.env after
 * loadConfig(); every problem is reported together in one ConfigError.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly redisUrl: string | null;
  /** REDIS_PREFIX: prefix of every key the exchange keeps in Redis (default "exchange:"). */
  readonly redisPrefix: string;
  /** EXCHANGE_REGION: the GB/T 2260 division this exchange serves (default 445200, Jieyang); members' full ids are `<division>/<code>`. */
  readonly region: string;
  readonly policyDir: string;
  readonly supergraphPath: string;
  readonly unclassifiedFields: 'deny' | 'allow';
  /** Where the JWT verification key comes from. 'dev' = a key pair made in DATA_DIR on first use. */
  readonly jwt:
    | { readonly kind: 'secret'; readonly secret: string }
    | { readonly kind: 'public-key'; readonly publicKeyPem: string }
    | { readonly kind: 'dev' };
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  /** The gateway→subgraph identity keys (GATEWAY_SIGNING_KEY, GATEWAY_PUBLIC_KEY). */
  readonly gatewayIdentity: GatewayIdentityConfig;
  /** SUBGRAPH_TIMEOUT_MS: how long the gateway waits for one subgraph fetch. */
  readonly subgraphTimeoutMs: number;
  /** SUBGRAPH_TLS_CA, SUBGRAPH_TLS_CLIENT_CERT/KEY: trust and client certificate for https subgraphs. */
  readonly subgraphTls: SubgraphClientTls;
  /** JWT_MAX_TTL: the longest token lifetime the gateway accepts, in seconds. */
  readonly jwtMaxTtlSeconds: number;
  /** INSTANCE_ID: names this gateway's audit chain; stable across restarts. Null = host and port. */
  readonly instance: string | null;
  /** SUBGRAPH_URL_<NAME> overrides, keyed by lower-case subgraph name. */
  readonly subgraphUrls: ReadonlyMap<string, string>;
  /** CORS_ORIGINS: browser origins allowed to call the gateway; empty = none. */
  readonly corsOrigins: readonly string[];
  /** RATE_LIMIT_PER_MINUTE: requests per agency per minute on this instance; null = no limit. */
  readonly rateLimitPerMinute: number | null;
  /**
   * Bounds on a request's input (MAX_OPERATION_NAME_LENGTH, MAX_TEXT_ARGUMENT_LENGTH,
   * MAX_DOCUMENT_ARGUMENT_LENGTH, MAX_LIST_ARGUMENT_LENGTH, MAX_REQUEST_COST; defaults 128, 2000,
   * 200000, 100, 2000): over any, HTTP 400.
   */
  readonly inputLimits: InputLimits;
  /** COST_BUDGET_PER_MINUTE: estimated cost an agency may spend per minute on this instance (default 100000; "off": none). */
  readonly costBudgetPerMinute: number | null;
  /** ARCHIVE_URL: the PostgreSQL archive of the access log and the ledger (docs/archive.md); null = none. */
  readonly archiveUrl: string | null;
  /** ARCHIVE_RETENTION_YEARS: month partitions older than this are dropped once a verified backup holds them; null = kept for ever. */
  readonly archiveRetentionYears: number | null;
  /** Backups (docs/operations.md): where archives are written, copied off-site, and how many are kept. */
  readonly backup: BackupConfig;
  /**
   * LOG_SIGNING_KEY (an Ed25519 private key, PEM or file): seals every group commit of the access
   * log and the ledger; null = the development key beside DATA_DIR (docs/security.md).
   */
  readonly logSigningKey: string | null;
  /** WITNESS_URLS: off-host witnesses that countersign the heads of every chain; empty = none. */
  readonly witnessUrls: readonly string[];
  /** Connection caps and request timeouts (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS). */
  readonly connections: ConnectionLimits;
}

export interface BackupConfig {
  /** BACKUP_DIR: default `backups` beside DATA_DIR (never inside it: a restore needs an empty DATA_DIR). */
  readonly dir: string;
  /** OFFSITE_DIR: every archive is copied here and verified; null = no off-site copy. */
  readonly offsiteDir: string | null;
  /** BACKUP_KEY: seals the keys in an archive; null = archives can be made only without keys. */
  readonly key: string | null;
  /** BACKUP_KEEP_DAILY / BACKUP_KEEP_MONTHLY: retention (default 7 daily, 12 monthly). */
  readonly keepDaily: number;
  readonly keepMonthly: number;
  /** BACKUP_INTERVAL: a running gateway takes a backup this often (seconds); null = only by command. */
  readonly intervalSeconds: number | null;
  /** BACKUP_INCREMENTS: incremental archives made after each full one (default 0: every archive is full). */
  readonly increments: number;
}

/** An agency's default cost per minute: fifty requests of the largest cost, or thousands of ordinary reads. */
export const DEFAULT_COST_BUDGET_PER_MINUTE = 100_000;

type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigDefaults {
  readonly port?: number;
}

export function loadConfig(env: Env = process.env, defaults: ConfigDefaults = {}): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => envString(env, name);

  const port = portValue(str('PORT'), defaults.port ?? 4000, problems);

  const host = str('HOST') ?? '127.0.0.1';
  const dataDir = path.resolve(str('DATA_DIR') ?? 'data');
  const policyDir = path.resolve(str('POLICY_DIR') ?? 'policies');
  const supergraphPath = path.resolve(str('SUPERGRAPH_PATH') ?? 'schema/supergraph.graphql');

  const redisUrl = redisUrlValue(str('REDIS_URL'), problems);
  const redisPrefix = redisPrefixValue(str('REDIS_PREFIX'), problems);
  const region = exchangeRegionValue(str('EXCHANGE_REGION'), problems);

  const rawUnclassified = str('UNCLASSIFIED_FIELDS') ?? 'deny';
  let unclassifiedFields: 'deny' | 'allow' = 'deny';
  if (rawUnclassified === 'deny' || rawUnclassified === 'allow') unclassifiedFields = rawUnclassified;
  else problems.push(`UNCLASSIFIED_FIELDS must be "deny" or "allow", got "${rawUnclassified}"`);

  let jwt: Config['jwt'] = { kind: 'dev' };
  const secret = str('JWT_SECRET');
  const publicKeyPath = str('JWT_PUBLIC_KEY');
  if (secret !== undefined && publicKeyPath !== undefined) {
    problems.push('set JWT_SECRET or JWT_PUBLIC_KEY, not both');
  } else if (secret !== undefined) {
    if (Buffer.byteLength(secret) < 32) problems.push('JWT_SECRET must be at least 32 bytes');
    else jwt = { kind: 'secret', secret };
  } else if (publicKeyPath !== undefined) {
    const pem = pemOrFile('JWT_PUBLIC_KEY', publicKeyPath, problems);
    if (pem !== null) jwt = { kind: 'public-key', publicKeyPem: pem };
    if (jwt.kind === 'public-key' && !jwt.publicKeyPem.includes('PUBLIC KEY-----')) {
      problems.push('JWT_PUBLIC_KEY is not a PEM public key');
    }
  }

  const gatewayIdentity = gatewayIdentityValue(env, problems);
  const subgraphTimeoutMs = intIn('SUBGRAPH_TIMEOUT_MS', str('SUBGRAPH_TIMEOUT_MS'), 10_000, 1, 600_000, problems);
  const subgraphTls = subgraphClientTlsValue(env, problems);

  let jwtMaxTtlSeconds = 24 * 3600;
  const rawMaxTtl = str('JWT_MAX_TTL');
  if (rawMaxTtl !== undefined) {
    const seconds = durationSeconds(rawMaxTtl);
    if (seconds === null) problems.push(`JWT_MAX_TTL must look like 3600s, 90m, 24h or 7d, got "${rawMaxTtl}"`);
    else jwtMaxTtlSeconds = seconds;
  }

  const instance = str('INSTANCE_ID') ?? null;
  if (instance !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(instance)) {
    problems.push(`INSTANCE_ID must be 1-64 letters, digits, dots, dashes or underscores, got "${instance}"`);
  }

  const subgraphUrls = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SUBGRAPH_URL_') || value === undefined || value.trim() === '') continue;
    const sub = name.slice('SUBGRAPH_URL_'.length).toLowerCase();
    try {
      const u = new URL(value.trim());
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      subgraphUrls.set(sub, u.toString());
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${value}"`);
    }
  }

  const corsOrigins: string[] = [];
  for (const raw of (str('CORS_ORIGINS') ?? '').split(',')) {
    const origin = raw.trim();
    if (origin === '') continue;
    const problem = originProblem(origin);
    if (problem === null) corsOrigins.push(origin);
    else problems.push(`CORS_ORIGINS: "${origin}" ${problem}`);
  }

  let rateLimitPerMinute: number | null = null;
  const rawRate = str('RATE_LIMIT_PER_MINUTE');
  if (rawRate !== undefined) {
    const n = Number(rawRate);
    if (!/^\d+$/.test(rawRate) || n < 1 || n > 1_000_000) problems.push(`RATE_LIMIT_PER_MINUTE must be an integer from 1 to 1000000 (unset: no limit), got "${rawRate}"`);
    else rateLimitPerMinute = n;
  }

  const inputLimits: InputLimits = Object.freeze({
    maxOperationNameLength: intIn('MAX_OPERATION_NAME_LENGTH', str('MAX_OPERATION_NAME_LENGTH'), DEFAULT_INPUT_LIMITS.maxOperationNameLength, 1, 10_000, problems),
    maxTextLength: intIn('MAX_TEXT_ARGUMENT_LENGTH', str('MAX_TEXT_ARGUMENT_LENGTH'), DEFAULT_INPUT_LIMITS.maxTextLength, 1, 1_000_000, problems),
    maxDocumentLength: intIn('MAX_DOCUMENT_ARGUMENT_LENGTH', str('MAX_DOCUMENT_ARGUMENT_LENGTH'), DEFAULT_INPUT_LIMITS.maxDocumentLength, 1, 1_000_000, problems),
    maxListLength: intIn('MAX_LIST_ARGUMENT_LENGTH', str('MAX_LIST_ARGUMENT_LENGTH'), DEFAULT_INPUT_LIMITS.maxListLength, 1, 100_000, problems),
    maxRequestCost: intIn('MAX_REQUEST_COST', str('MAX_REQUEST_COST'), DEFAULT_INPUT_LIMITS.maxRequestCost, 1, 100_000_000, problems),
  });
  const rawBudget = str('COST_BUDGET_PER_MINUTE');
  const costBudgetPerMinute = rawBudget === 'off' ? null : intIn('COST_BUDGET_PER_MINUTE', rawBudget, DEFAULT_COST_BUDGET_PER_MINUTE, 1, 1_000_000_000, problems);
  if (costBudgetPerMinute !== null && costBudgetPerMinute < inputLimits.maxRequestCost) {
    problems.push(`COST_BUDGET_PER_MINUTE (${costBudgetPerMinute}) must be at least MAX_REQUEST_COST (${inputLimits.maxRequestCost}), or no request of the largest allowed cost could ever run`);
  }

  const backup = backupConfig(str, dataDir, problems);
  const archiveUrl = archiveUrlValue(str('ARCHIVE_URL'), problems);

  const rawRetention = str('ARCHIVE_RETENTION_YEARS');
  const archiveRetentionYears = rawRetention === undefined ? null : intIn('ARCHIVE_RETENTION_YEARS', rawRetention, 0, 1, 100, problems);

  const logSigningKey = logSigningKeyValue(str('LOG_SIGNING_KEY'), dataDir, problems);
  const witnessUrls = witnessUrlsValue(str('WITNESS_URLS'), problems);

  const connections = connectionLimitsFrom((name, fallback, min, max) => intIn(name, str(name), fallback, min, max, problems));

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port,
    host,
    dataDir,
    redisUrl,
    redisPrefix,
    region,
    policyDir,
    supergraphPath,
    unclassifiedFields,
    jwt: Object.freeze(jwt),
    jwtIssuer: str('JWT_ISSUER') ?? 'exchange',
    jwtAudience: str('JWT_AUDIENCE') ?? 'exchange-gateway',
    gatewayIdentity,
    subgraphTimeoutMs,
    subgraphTls,
    jwtMaxTtlSeconds,
    instance,
    subgraphUrls,
    corsOrigins: Object.freeze(corsOrigins),
    rateLimitPerMinute,
    inputLimits,
    costBudgetPerMinute,
    archiveUrl,
    archiveRetentionYears,
    backup,
    logSigningKey,
    witnessUrls,
    connections,
  });
}

function inside(dir: string, parent: string): boolean {
  const rel = path.relative(parent, dir);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function backupConfig(str: (name: string) => string | undefined, dataDir: string, problems: string[]): BackupConfig {
  const dir = path.resolve(str('BACKUP_DIR') ?? path.join(path.dirname(dataDir), 'backups'));
  if (inside(dir, dataDir)) problems.push(`BACKUP_DIR must be outside DATA_DIR (a restore needs an empty DATA_DIR), got "${dir}"`);
  const rawOffsite = str('OFFSITE_DIR');
  const offsiteDir = rawOffsite === undefined ? null : path.resolve(rawOffsite);
  if (offsiteDir !== null && (inside(offsiteDir, dataDir) || inside(offsiteDir, dir) || inside(dir, offsiteDir))) {
    problems.push(`OFFSITE_DIR must be apart from DATA_DIR and BACKUP_DIR (it stands for another site), got "${offsiteDir}"`);
  }
  const key = str('BACKUP_KEY') ?? null;
  if (key !== null && Buffer.byteLength(key) < 16) problems.push('BACKUP_KEY must be at least 16 bytes (a passphrase or random text kept apart from the backups)');
  const rawInterval = str('BACKUP_INTERVAL');
  let intervalSeconds: number | null = null;
  if (rawInterval !== undefined) {
    intervalSeconds = durationSeconds(rawInterval);
    if (intervalSeconds === null) problems.push(`BACKUP_INTERVAL must look like 90s, 30m, 24h or 1d, got "${rawInterval}"`);
    else if (key === null) problems.push('BACKUP_INTERVAL needs BACKUP_KEY: scheduled archives hold the keys sealed with it');
  }
  return Object.freeze({
    dir,
    offsiteDir,
    key,
    keepDaily: intIn('BACKUP_KEEP_DAILY', str('BACKUP_KEEP_DAILY'), 7, 1, 3650, problems),
    keepMonthly: intIn('BACKUP_KEEP_MONTHLY', str('BACKUP_KEEP_MONTHLY'), 12, 0, 1200, problems),
    intervalSeconds,
    increments: intIn('BACKUP_INCREMENTS', str('BACKUP_INCREMENTS'), 0, 0, 1000, problems),
  });
}

/**
 * Why a CORS_ORIGINS entry is not an origin a browser would send, or null. The list is an
 * allow-list: a wildcard would open the exchange to every web page a developer's browser visits.
 */
function originProblem(origin: string): string | null {
  if (origin === '*') return 'is not accepted: list each origin, e.g. https://app.example.gov.cn';
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return 'is not an origin such as https://app.example.gov.cn';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.origin !== origin) return `must be scheme://host[:port] with no path or trailing slash (did you mean ${u.origin}?)`;
  return null;
}

function intIn(name: string, raw: string | undefined, fallback: number, min: number, max: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return n;
}

/** "90s", "15m", "1h", "7d" → seconds; null when it is not one of those. */
export function durationSeconds(text: string): number | null {
  const m = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n * unit : null;
}
