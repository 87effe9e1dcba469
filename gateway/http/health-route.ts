import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SubgraphClientTls } from '../../common/config-values.ts';
import { sendJson } from '../../common/http.ts';
import { TRUST_HEADER, type ForwardedIdentity } from '../../common/trust.ts';
import type { Background } from '../../ledger/background/supervisor.ts';
import { backupHealth } from '../../ledger/backup/schedule.ts';
import type { BackupWatch } from '../../ledger/backup/state.ts';
import type { AuditStore } from '../audit/store.ts';
import { healthVerdict, overdueDatasets, seesHealthDetails, sharedProbe, subgraphReachability } from '../health.ts';
import type { Authentication } from '../identity/jwt.ts';
import type { SubgraphServices } from '../subgraph-services.ts';

export interface HealthRouteOptions {
  readonly subgraphs: Pick<SubgraphServices, 'urls' | 'breakers'>;
  /** Signs the gateway's own identity into each probe: our subgraphs answer nothing without one. */
  readonly sign: (id: ForwardedIdentity, audience: string) => Promise<string>;
  /** SUBGRAPH_TLS_*: probes check and are checked by https subgraphs as requests are. */
  readonly tls: SubgraphClientTls;
  readonly audit: AuditStore;
  readonly backups: BackupWatch;
  readonly backupIntervalSeconds: number | null;
  readonly now: () => number;
  readonly startedAt: number;
  /** The background process, once started (it starts after the server listens), or null without one. */
  readonly background: () => Background | null;
  readonly verifyBearer: (header: string | undefined) => Authentication;
  readonly instance: string;
  /** The supergraph version served, and the newest published one refused (if it was); its subgraphs are the ones probed. */
  readonly supergraph: () => { readonly subgraphs: readonly string[]; readonly details: object };
}

/** GET /health: the verdict for a load balancer, and the details for the authority's operators. */
export function healthRoute(opts: HealthRouteOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { subgraphs, sign, tls, audit, backups, backupIntervalSeconds, now, startedAt, verifyBearer, instance } = opts;
  const probeSubgraphs = sharedProbe(async () => {
    // The subgraphs of the version served, not every one an earlier version routed to.
    const served = new Set(opts.supergraph().subgraphs);
    const urls = new Map([...subgraphs.urls].filter(([name]) => served.has(name)));
    const signed = new Map(await Promise.all([...urls.keys()].map(async (subgraph) => [subgraph, await sign({ sub: 'gateway-health', agency: 'itd', roles: [], purpose: null }, subgraph)] as const)));
    const healthIdentity = (subgraph: string): [string, string] => [TRUST_HEADER, signed.get(subgraph) ?? ''];
    return Promise.all([subgraphReachability(urls, healthIdentity, tls), overdueDatasets(urls.get('exchange'), healthIdentity('exchange'), tls)]);
  });
  return async (req, res) => {
    req.resume();
    const [reachability, overdue] = await probeSubgraphs();
    const background = opts.background();
    const health = healthVerdict(reachability, { store: audit.kind, writable: audit.writable() }, backupHealth(backups.state, backupIntervalSeconds, now(), startedAt, background?.backupRunning() ?? false));
    // A late backup is for the operator to see, not a reason for a load balancer to stop sending requests.
    const status = health.degraded.some((d) => d !== 'backup') ? 503 : 200;
    const auth = req.headers.authorization === undefined ? null : verifyBearer(req.headers.authorization);
    if (!seesHealthDetails(auth?.ok === true ? auth.principal : null)) sendJson(res, status, { status: health.status });
    else sendJson(res, status, { ...health, ...(background === null ? {} : { background: background.health() }), circuits: Object.fromEntries([...subgraphs.breakers].map(([n, b]) => [n, b.phase])), freshness: overdue === null ? 'unknown' : { overdue }, supergraph: opts.supergraph().details, instance });
  };
}
