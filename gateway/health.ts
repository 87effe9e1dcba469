export interface SubgraphReachability {
  readonly reachable: boolean;
  readonly ms: number;
}

export interface Health {
  readonly status: 'ok' | 'degraded';
  readonly subgraphs: Record<string, SubgraphReachability>;
}

const TIMEOUT_MS = 1000;

/** Asks each subgraph's /health (no identity needed there) in parallel, each bounded by 1 s. */
export async function subgraphHealth(urls: ReadonlyMap<string, string>): Promise<Health> {
  const entries = await Promise.all(
    [...urls].map(async ([name, url]): Promise<[string, SubgraphReachability]> => {
      const started = performance.now();
      try {
        const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(TIMEOUT_MS) });
        await res.arrayBuffer();
        return [name, { reachable: res.ok, ms: Math.round(performance.now() - started) }];
      } catch {
        return [name, { reachable: false, ms: Math.round(performance.now() - started) }];
      }
    }),
  );
  const subgraphs = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  return { status: entries.every(([, r]) => r.reachable) ? 'ok' : 'degraded', subgraphs };
}

/**
 * R-17 on /health: the datasets the authority's catalog reports overdue, asked of the exchange
 * subgraph as the authority itself. Null when it cannot be asked.
 */
export async function overdueDatasets(exchangeUrl: string | undefined, identityHeader: [string, string]): Promise<string[] | null> {
  if (exchangeUrl === undefined) return null;
  try {
    const res = await fetch(exchangeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [identityHeader[0]]: identityHeader[1] },
      body: JSON.stringify({ query: '{ overdueDatasets { id } }' }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await res.json()) as { data?: { overdueDatasets?: { id: string }[] } };
    return body.data?.overdueDatasets?.map((d) => d.id) ?? null;
  } catch {
    return null;
  }
}
