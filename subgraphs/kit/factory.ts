import type { ResolverMap } from './resolver-map.ts';

/** Reads the gateway's access log (file or Redis), wired in by the launcher. */
export type AuditReader = (
  filter: Readonly<Record<string, string | undefined>>,
  page: { first: number; after?: string },
) => Promise<{ records: readonly object[]; next: string | null }>;

/** What a subgraph may need from its deployment; subgraphs never read the environment. */
export interface SubgraphEnv {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  readonly supergraphPath: string;
  /** EXCHANGE_REGION: the division the exchange serves, for the members seeded on a fresh ledger; absent: 445200. */
  readonly region?: string;
  /** The access log, for the authority's auditor queries; absent where no log is reachable. */
  readonly auditReader?: AuditReader;
  /** ARCHIVE_URL: when set, the usage statistics read the PostgreSQL archive instead of following the log. */
  readonly archiveUrl?: string | null;
  /** LOG_SIGNING_KEY (PEM) for the ledger this subgraph records in; null or absent: the development key. */
  readonly logSigningKey?: string | null;
  /** WITNESS_URLS. */
  readonly witnessUrls?: readonly string[];
  /** POLICY_DIR: the standing grants a registry check lists beside the ledger's; absent: the ledger's alone. */
  readonly policyDir?: string;
  /** The clock deadlines, grant expiries and agreement validity are judged by; tests move it instead of waiting. */
  readonly now?: () => Date;
}

/** Each agency's resolvers.ts exports `create` of this type. */
export type SubgraphFactory = (env: SubgraphEnv) => Promise<{
  resolvers: ResolverMap;
  close?: () => Promise<void>;
}>;
