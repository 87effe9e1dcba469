import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDivisionCode } from './codes.ts';
import { identityKeyProblems, publicKeyOf } from './trust-keys.ts';

/**
 * Values both the gateway's configuration and a subgraph host's read the same way: each reader
 * collects its problems and throws one ConfigError listing them all.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A trimmed variable, or undefined when unset or blank. */
export function envString(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function portValue(raw: string | undefined, fallback: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < 0 || n > 65535) {
    problems.push(`PORT must be an integer from 0 to 65535, got "${raw}"`);
    return fallback;
  }
  return n;
}

export function redisUrlValue(raw: string | undefined, problems: string[]): string | null {
  if (raw === undefined) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
    if (u.hostname === '') throw new Error('host');
    if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) throw new Error('db');
    return raw;
  } catch {
    problems.push(`REDIS_URL must look like redis://host:port[/db], got "${raw}"`);
    return null;
  }
}

/** The reference exchange's region: Jieyang city. */
export const DEFAULT_EXCHANGE_REGION = '445200';

/** EXCHANGE_REGION: the GB/T 2260 division the exchange serves (docs/configuration.md). */
export function exchangeRegionValue(raw: string | undefined, problems: string[]): string {
  if (raw === undefined) return DEFAULT_EXCHANGE_REGION;
  if (!isDivisionCode(raw)) problems.push(`EXCHANGE_REGION must be an administrative division code of GB/T 2260 (six digits, e.g. 445200 Jieyang, 440000 Guangdong), got "${raw.slice(0, 40)}"`);
  return raw;
}

export function redisPrefixValue(raw: string | undefined, problems: string[]): string {
  const prefix = raw ?? 'exchange:';
  if (!/^[A-Za-z0-9:._-]{1,64}$/.test(prefix)) problems.push(`REDIS_PREFIX must be 1-64 letters, digits or : . _ -, got "${prefix}"`);
  return prefix;
}

export function archiveUrlValue(raw: string | undefined, problems: string[]): string | null {
  if (raw === undefined) return null;
  const problem = archiveUrlProblem(raw);
  if (problem === null) return raw;
  problems.push(`ARCHIVE_URL ${problem}`);
  return null;
}

/** Why ARCHIVE_URL is not a PostgreSQL URL naming a database, or null. Never echoes a password. */
function archiveUrlProblem(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'must look like postgres://user@host:5432/database';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return `must be a postgres:// URL, got scheme "${u.protocol.replace(/:$/, '')}"`;
  if (u.hostname === '') return 'must name a host, as in postgres://user@host:5432/database';
  if (!/^\/[A-Za-z0-9_.-]{1,63}$/.test(u.pathname)) return 'must name a database, as in postgres://user@host:5432/database';
  return null;
}

/** A key or certificate given as PEM text or as the path of a PEM file; null (with a problem noted) when unreadable. */
export function pemOrFile(name: string, value: string, problems: string[], what = 'key file'): string | null {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  try {
    return readFileSync(value, 'utf8');
  } catch {
    problems.push(`${name}: cannot read ${what} "${path.basename(value)}"`);
    return null;
  }
}

/**
 * The gateway→subgraph identity keys (GATEWAY_SIGNING_KEY, GATEWAY_PUBLIC_KEY). 'configured':
 * the public key is given or derived from the private one; the private one is absent where only
 * GATEWAY_PUBLIC_KEY is set (a subgraph's host). 'dev': the pair made in DATA_DIR/keys.
 */
export type GatewayIdentityConfig =
  | { readonly kind: 'configured'; readonly signingKeyPem: string | null; readonly publicKeyPem: string }
  | { readonly kind: 'dev' };

export function gatewayIdentityValue(env: Env, problems: string[]): GatewayIdentityConfig {
  if (envString(env, 'SUBGRAPH_SECRET') !== undefined) {
    problems.push('SUBGRAPH_SECRET is no longer used: give the gateway GATEWAY_SIGNING_KEY (Ed25519 or ES256 private key) and subgraphs GATEWAY_PUBLIC_KEY');
  }
  const rawSigning = envString(env, 'GATEWAY_SIGNING_KEY');
  const rawPublic = envString(env, 'GATEWAY_PUBLIC_KEY');
  const signingKeyPem = rawSigning === undefined ? null : pemOrFile('GATEWAY_SIGNING_KEY', rawSigning, problems);
  const publicKeyPem = rawPublic === undefined ? null : pemOrFile('GATEWAY_PUBLIC_KEY', rawPublic, problems);
  if (signingKeyPem === null && publicKeyPem === null) return Object.freeze({ kind: 'dev' });
  const keyProblems = identityKeyProblems(signingKeyPem, publicKeyPem);
  problems.push(...keyProblems);
  if (keyProblems.length > 0) return Object.freeze({ kind: 'dev' });
  return Object.freeze({ kind: 'configured', signingKeyPem, publicKeyPem: publicKeyPem ?? publicKeyOf(signingKeyPem!) });
}

/** SUBGRAPH_TLS_CERT / SUBGRAPH_TLS_KEY / SUBGRAPH_TLS_CLIENT_CA: a subgraph serving HTTPS, optionally asking the gateway for a client certificate. */
export interface SubgraphServerTls {
  readonly cert: string;
  readonly key: string;
  /** When set, only clients with a certificate issued by this CA (the gateway's) may connect. */
  readonly clientCa: string | null;
}

/** SUBGRAPH_TLS_CA / SUBGRAPH_TLS_CLIENT_CERT / SUBGRAPH_TLS_CLIENT_KEY: how the gateway speaks to https subgraphs. */
export interface SubgraphClientTls {
  /** Trust for subgraph certificates in place of the system's; null = the system's. */
  readonly ca: string | null;
  /** The gateway's client certificate and key, for subgraphs that require one (mutual TLS). */
  readonly cert: string | null;
  readonly key: string | null;
}

function certificate(name: string, env: Env, problems: string[]): { pem: string; x509: X509Certificate } | null {
  const raw = envString(env, name);
  if (raw === undefined) return null;
  const pem = pemOrFile(name, raw, problems, 'certificate file');
  if (pem === null) return null;
  try {
    return { pem, x509: new X509Certificate(pem) };
  } catch {
    problems.push(`${name} is not a PEM certificate`);
    return null;
  }
}

/** A certificate and its private key, given as a pair or not at all; the key must match the certificate. */
function certificatePair(certName: string, keyName: string, env: Env, problems: string[]): { cert: string; key: string } | null {
  const rawCert = envString(env, certName);
  const rawKey = envString(env, keyName);
  if (rawCert === undefined && rawKey === undefined) return null;
  if (rawCert === undefined || rawKey === undefined) {
    problems.push(`set ${certName} and ${keyName} together (a certificate and its private key), or neither`);
    return null;
  }
  const cert = certificate(certName, env, problems);
  const key = pemOrFile(keyName, rawKey, problems);
  if (cert === null || key === null) return null;
  try {
    if (!cert.x509.checkPrivateKey(createPrivateKey(key))) {
      problems.push(`${keyName} is not the private key of ${certName}`);
      return null;
    }
  } catch {
    problems.push(`${keyName} is not a PEM private key`);
    return null;
  }
  return { cert: cert.pem, key };
}

export function subgraphServerTlsValue(env: Env, problems: string[]): SubgraphServerTls | null {
  const pair = certificatePair('SUBGRAPH_TLS_CERT', 'SUBGRAPH_TLS_KEY', env, problems);
  const clientCa = certificate('SUBGRAPH_TLS_CLIENT_CA', env, problems);
  if (clientCa !== null && envString(env, 'SUBGRAPH_TLS_CERT') === undefined) {
    problems.push('SUBGRAPH_TLS_CLIENT_CA needs SUBGRAPH_TLS_CERT and SUBGRAPH_TLS_KEY: client certificates are asked for only over TLS');
  }
  return pair === null ? null : Object.freeze({ ...pair, clientCa: clientCa?.pem ?? null });
}

export function subgraphClientTlsValue(env: Env, problems: string[]): SubgraphClientTls {
  const ca = certificate('SUBGRAPH_TLS_CA', env, problems);
  const pair = certificatePair('SUBGRAPH_TLS_CLIENT_CERT', 'SUBGRAPH_TLS_CLIENT_KEY', env, problems);
  return Object.freeze({ ca: ca?.pem ?? null, cert: pair?.cert ?? null, key: pair?.key ?? null });
}
