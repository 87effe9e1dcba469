import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { sendJson } from '../common/http.ts';
import { errorBody } from '../common/errors.ts';
import { identitySigner } from '../common/trust.ts';
import type { Background } from '../ledger/background/supervisor.ts';
import { watchBackups } from '../ledger/backup/state.ts';
import { openLedger } from '../ledger/ledger.ts';
import { openRegistry } from '../ledger/registry.ts';
import { logKey, warnIfDevKey } from '../ledger/log/log-key.ts';
import { openMembers, seedMembers } from '../ledger/members.ts';
import { openAuditStore, type AuditStore } from './audit/store.ts';
import { startBackgroundProcess } from './background-process.ts';
import type { Config } from './config.ts';
import { costBudget, sharedCostBudget } from './cost-budget.ts';
import { governedGateway, type GatewayContext } from './governed.ts';
import { CONNECTIONS_CHECKING_INTERVAL_MS, guardConnections } from './http/connections.ts';
import { requestIdInErrors } from './http/error-ids.ts';
import { gatewayHandler, supergraphVersionHeader } from './http/handler.ts';
import { healthRoute } from './http/health-route.ts';
import { keepingExecutor, KnownOperations } from './http/known-operations.ts';
import { maskError } from './http/mask-error.ts';
import { gatewaySigningKey } from './identity/gateway-keys.ts';
import { bearerVerifier } from './identity/jwt.ts';
import { verificationKey } from './identity/keys.ts';
import { signToken } from './identity/token.ts';
import { localAnswers } from './local-answers.ts';
import { consoleLogger, type Logger } from './log.ts';
import { disableApolloTelemetry } from './no-telemetry.ts';
import { planExecutingGateway } from './plan-executor.ts';
import { rateLimiter, sharedRateLimiter } from './rate-limit.ts';
import { requestChecks, type InputGuard } from './request-checks.ts';
import { openSharingPolicy, type SharingPolicy } from './sharing/policy.ts';
import { revisionRecorder } from './sharing/revision-ledger.ts';
import type { Catalog } from './sharing/types.ts';
import { subgraphServices } from './subgraph-services.ts';
import { startingVersion, supergraphSource, versionLabel, type PublishedVersions } from './supergraph-source.ts';
import { DEV_TOKEN_TTL_SECONDS, webFront } from './web/front.ts';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly instance: string;
  readonly policy: SharingPolicy;
  readonly audit: AuditStore;
  close(): Promise<void>;
}

/** A start that cannot go on: what was wrong, with the cause's message but never its stack. */
function startupProblem(what: string, err: unknown): Error {
  return new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
}

export interface GatewayOptions {
  readonly log?: Logger;
  readonly instance?: string;
  /**
   * Replaces the audit store. Only the benchmark uses it, to measure what the audit costs; a
   * deployment always gets the store its configuration names.
   */
  readonly auditStore?: AuditStore;
  /** The clock of the sharing decisions, the rate limiter and the backup schedule (ms since the epoch); tests move it instead of waiting. */
  readonly clock?: () => number;
  /** Build the console's and explorer's bundles at start rather than on the first page load. */
  readonly buildWebAtStart?: boolean;
}

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<RunningGateway> {
  const log = opts.log ?? consoleLogger('gateway');
  const readSupergraphFile = (): string => {
    try {
      return readFileSync(config.supergraphPath, 'utf8');
    } catch (e) {
      throw startupProblem(`SUPERGRAPH_PATH: cannot read the supergraph (${(e as NodeJS.ErrnoException).code ?? 'error'})`, e);
    }
  };
  const key = verificationKey(config);
  if (key.source === 'development key') {
    log.warn(`no JWT_SECRET or JWT_PUBLIC_KEY: using the development key in ${config.dataDir}/keys${key.created ? ' (created now)' : ''}; npm run token signs with it`);
  }
  const signingKey = gatewaySigningKey(config);
  if (signingKey.source === 'development key') {
    log.warn(`no GATEWAY_SIGNING_KEY: signing subgraph identities with the development key pair in ${config.dataDir}/keys${signingKey.created ? ' (created now)' : ''}`);
  }
  const sign = identitySigner(signingKey.privateKeyPem);
  warnIfDevKey(logKey(config.dataDir, config.logSigningKey), (l) => log.warn(l));

  const instance = opts.instance ?? config.instance ?? `${hostname()}-${config.port === 0 ? process.pid : config.port}`;
  // One ledger for this gateway: the policy follows its grants and records its revisions in it.
  const trust = { logSigningKey: config.logSigningKey, witnessUrls: config.witnessUrls };
  const ledger = await openLedger({ dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, ...trust, sink: { info: (l) => log.info(l), warn: (l) => log.warn(l) } });
  // The supergraph: the newest version the authority published on the ledger, else SUPERGRAPH_PATH.
  let published: PublishedVersions;
  let starting: Awaited<ReturnType<typeof startingVersion>>;
  try {
    published = await openRegistry(ledger);
    starting = await startingVersion(published, readSupergraphFile, log);
  } catch (e) {
    // Closing the ledger stops the fold's follower too.
    await ledger.close();
    throw e;
  }
  const { versions } = starting;
  const catalog = versions.served().catalog;
  // The members' directory: a gateway started alone on a fresh DATA_DIR seeds the reference members itself.
  const members = await openMembers(ledger);
  let seeded: number;
  try {
    seeded = await seedMembers(ledger, config.region, members);
  } catch (e) {
    published.stop();
    members.stop();
    await ledger.close();
    throw startupProblem('members: cannot register the reference members', e);
  }
  if (seeded > 0) log.info(`members: registered the ${seeded} reference members on a fresh ledger (region ${config.region})`);
  const verifyBearer = bearerVerifier(key, { issuer: config.jwtIssuer, audience: config.jwtAudience, maxLifetimeSeconds: config.jwtMaxTtlSeconds, members });
  const revisions = revisionRecorder(ledger, instance, (l) => log.warn(l));
  const now = opts.clock ?? Date.now;
  const startedAt = now();
  const backups = watchBackups(ledger);
  let policy: SharingPolicy;
  try {
    policy = await openSharingPolicy({
      instance,
      ledger,
      members,
      onRevision: (rev) => revisions.record(rev),
      catalog,
      policyDir: config.policyDir,
      dataDir: config.dataDir,
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      unclassified: config.unclassifiedFields,
      now,
      log: (line) => log.info(line),
    });
  } catch (e) {
    published.stop();
    await revisions.drain();
    await ledger.close();
    throw e;
  }
  let audit: AuditStore;
  try {
    audit = opts.auditStore ?? (await openAuditStore({ dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, ...trust, instance, log }));
  } catch (e) {
    published.stop();
    await policy.close();
    await revisions.drain();
    await ledger.close();
    throw e;
  }

  disableApolloTelemetry();
  const subgraphs = subgraphServices({ overrides: config.subgraphUrls, timeoutMs: config.subgraphTimeoutMs, tls: config.subgraphTls, sign, log });
  const supergraphSdl = supergraphSource({
    published,
    versions,
    startedFrom: starting.startedFrom,
    prepare: (next) => policy.useCatalog(next.catalog),
    restore: (current) => policy.useCatalog(current.catalog),
    log,
  });
  const apolloGateway = planExecutingGateway({ supergraphSdl, buildService: subgraphs.buildService });
  // First of the listeners: every layer finds a request's version from the schema it was validated against.
  apolloGateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => versions.loaded(apiSchema, coreSupergraphSdl));
  const catalogOf = (schema: GraphQLSchema): Catalog => versions.of(schema).catalog;
  const known = new KnownOperations();
  const guard: InputGuard = {
    limits: config.inputLimits,
    budget:
      config.costBudgetPerMinute === null
        ? null
        : config.redisUrl === null
          ? costBudget(config.costBudgetPerMinute, opts.clock)
          : sharedCostBudget(config.costBudgetPerMinute, { url: config.redisUrl, prefix: config.redisPrefix }, { clock: opts.clock, warn: (l) => log.warn(l) }),
  };
  // Introspection, Query.mayRead and the auditors' chain status, export and explain are answered in the gateway, under governance like any field;
  // Apollo's plans run on the gateway's own plan executor.
  const governed = keepingExecutor(governedGateway(localAnswers(apolloGateway, {
      decide: (caller, coordinate, schema) => policy.decide(caller, coordinate, undefined, catalogOf(schema)),
      oversight: { location: config, explain: (caller, coordinate, schema) => policy.explain(caller, coordinate, undefined, catalogOf(schema)), members },
    }), { catalogOf, policy, audit, log }), known);

  const apollo = new ApolloServer<GatewayContext>({
    gateway: governed.gateway,
    introspection: true,
    // bin/run.ts owns SIGINT/SIGTERM: it drains the audit store before exit.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // A bearer token or a purpose header makes a browser preflight the request, which is what CSRF
    // prevention asks for: GET queries from standard clients (urql's default) pass.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization', 'x-purpose'] },
    formatError: maskError(log),
    plugins: [ApolloServerPluginLandingPageDisabled(), requestChecks(known, guard), requestIdInErrors<GatewayContext>(), supergraphVersionHeader((schema) => versionLabel(versions.of(schema)))],
  });
  await apollo.start();

  // The explorer and the console; "sign in as" only while the development key is in use.
  const web = webFront({
    devToken: key.source === 'development key' ? (agency, roles) => signToken(key, { agency, roles, ttlSeconds: DEV_TOKEN_TTL_SECONDS, sub: `${agency}-console-dev` }, { issuer: config.jwtIssuer, audience: config.jwtAudience }) : null,
    members,
    log,
  });
  if (opts.buildWebAtStart === true) web.warm();

  const limiter =
    config.rateLimitPerMinute === null
      ? null
      : config.redisUrl === null
        ? rateLimiter(config.rateLimitPerMinute, opts.clock)
        : sharedRateLimiter(config.rateLimitPerMinute, { url: config.redisUrl, prefix: config.redisPrefix }, { clock: opts.clock, warn: (l) => log.warn(l) });
  let background: Background | null = null;

  const health = healthRoute({
    subgraphs,
    sign,
    tls: config.subgraphTls,
    audit,
    backups,
    backupIntervalSeconds: config.backup.intervalSeconds,
    now,
    startedAt,
    background: () => background,
    verifyBearer,
    instance,
    supergraph: () => ({ subgraphs: versions.served().subgraphs, details: versions.health() }),
  });
  const handle = gatewayHandler({ corsOrigins: config.corsOrigins, health, web, verifyBearer, limiter, audit, catalog: () => versions.served().catalog, supergraphVersion: (schema) => versionLabel(versions.of(schema)), now, known, guard, maxOperationNameLength: config.inputLimits.maxOperationNameLength, governed, apollo, log });

  const server: Server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('request failed', err);
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', 'Internal error; it has been logged.', { requestId: res.getHeader('x-request-id') }));
      else res.destroy();
    });
  });
  guardConnections(server, config.connections, (line) => log.warn(line));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // The archive shipper and the backup schedule run in a process of their own, off the request path.
  background = startBackgroundProcess(config, instance, log);
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    instance,
    policy,
    audit,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await background?.stop();
      backups.stop();
      await policy.close();
      await revisions.drain();
      members.stop();
      await ledger.close();
      await audit.close();
      await limiter?.close();
      await guard.budget?.close();
    },
  };
}
