import type { SubgraphClientTls } from '../common/config-values.ts';
import type { BackupHealth } from '../ledger/backup/schedule.ts';
import { probePost, SubgraphDownError } from './subgraph-fetch.ts';

export interface SubgraphReachability {
  readonly reachable: boolean;
  readonly ms: number;
  /** Why it counts as unreachable, when it does: no answer, an HTTP status, or a refused identity. */
  readonly problem?: string;
}

/**
 * What /health reports to an operator (docs/operations.md): 503 when `subgraphs` or `audit` is listed in `degraded`.
 * Anyone else gets only `status`.
 */
export interface Health {
  readonly status: 'ok' | 'degraded';
  /**
   * What is wrong: 'subgraphs' (one or more unreachable), 'audit' (the store refuses writes),
   * 'backup' (with BACKUP_INTERVAL: the last good backup is older than twice the interval).
   */
  readonly degraded: readonly ('subgraphs' | 'audit' | 'backup')[];
  readonly subgraphs: Record<string, SubgraphReachability>;
  readonly audit: { readonly store: string; readonly writable: boolean };
  readonly backup?: BackupHealth;
}

const TIMEOUT_MS = 1000;

/** Probe results are reused this long: /health costs the subgraphs one probe per interval, however often it is asked. */
export const PROBE_REUSE_MS = 2000;

/**
 * Runs `probe` at most once at a time and reuses its result for `reuseMs` after it finished, so a
 * flood of /health calls cannot turn into a flood of subgraph requests.
 */
export function sharedProbe<T>(probe: () => Promise<T>, reuseMs: number = PROBE_REUSE_MS, clock: () => number = () => performance.now()): () => Promise<T> {
  let last: { value: T; at: number } | null = null;
  let running: Promise<T> | null = null;
  return () => {
    if (last !== null && clock() - last.at < reuseMs) return Promise.resolve(last.value);
    running ??= probe().then(
      (value) => {
        last = { value, at: clock() };
        running = null;
        return value;
      },
      (e: unknown) => {
        running = null;
        throw e;
      },
    );
    return running;
  };
}

/** Who may read what /health names (which subgraphs, overdue datasets): the authority's operators. */
export function seesHealthDetails(principal: { readonly agency: string; readonly roles: readonly string[] } | null): boolean {
  return principal !== null && principal.agency === 'itd' && principal.roles.some((r) => r === 'coordinator' || r === 'auditor');
}

/** The overall verdict from its parts; pure. */
export function healthVerdict(subgraphs: Record<string, SubgraphReachability>, audit: Health['audit'], backup?: BackupHealth): Health {
  const degraded: ('subgraphs' | 'audit' | 'backup')[] = [];
  if (Object.values(subgraphs).some((r) => !r.reachable)) degraded.push('subgraphs');
  if (!audit.writable) degraded.push('audit');
  if (backup?.stale === true) degraded.push('backup');
  return { status: degraded.length === 0 ? 'ok' : 'degraded', degraded, subgraphs, audit, ...(backup === undefined ? {} : { backup }) };
}

/**
 * Probes each subgraph with the GraphQL query `{ __typename }`, which every subgraph serves (a
 * foreign one has no /health), in parallel, each bounded by 1 s. Ours also demand the gateway's
 * identity: a subgraph that refuses it cannot serve anything and counts as unreachable.
 */
export async function subgraphReachability(urls: ReadonlyMap<string, string>, identity: (subgraph: string) => [string, string], tls?: SubgraphClientTls): Promise<Record<string, SubgraphReachability>> {
  const entries = await Promise.all(
    [...urls].map(async ([name, url]): Promise<[string, SubgraphReachability]> => {
      const started = performance.now();
      const ms = (): number => Math.round(performance.now() - started);
      const [header, value] = identity(name);
      try {
        const res = await probePost(url, { 'content-type': 'application/json', accept: 'application/json', [header]: value }, '{"query":"{ __typename }"}', TIMEOUT_MS, tls);
        const body = res.body as { data?: { __typename?: unknown } } | null;
        if (res.status === 401) return [name, { reachable: false, ms: ms(), problem: 'refuses the gateway identity (check GATEWAY_PUBLIC_KEY)' }];
        if (res.status < 200 || res.status > 299 || typeof body?.data?.__typename !== 'string') return [name, { reachable: false, ms: ms(), problem: `answers HTTP ${res.status} without data` }];
        return [name, { reachable: true, ms: ms() }];
      } catch (e) {
        const timedOut = e instanceof SubgraphDownError && e.why === 'timeout';
        return [name, { reachable: false, ms: ms(), problem: timedOut ? `no answer within ${TIMEOUT_MS} ms` : 'connection failed' }];
      }
    }),
  );
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * R-17 on /health: the datasets the authority's catalog reports overdue, asked of the exchange
 * subgraph as the authority itself. Null when it cannot be asked.
 */
export async function overdueDatasets(exchangeUrl: string | undefined, identityHeader: [string, string], tls?: SubgraphClientTls): Promise<string[] | null> {
  if (exchangeUrl === undefined) return null;
  try {
    const res = await probePost(exchangeUrl, { 'content-type': 'application/json', [identityHeader[0]]: identityHeader[1] }, JSON.stringify({ query: '{ overdueDatasets { id } }' }), TIMEOUT_MS, tls);
    const body = res.body as { data?: { overdueDatasets?: { id: string }[] } } | null;
    return body?.data?.overdueDatasets?.map((d) => d.id) ?? null;
  } catch {
    return null;
  }
}
