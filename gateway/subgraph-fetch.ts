import { Agent } from 'node:http';
import nodeFetch, { Response } from 'node-fetch';
import type { CircuitBreaker } from './circuit-breaker.ts';

/**
 * The HTTP client both gateways use to reach subgraphs: node-fetch over a keep-alive agent.
 * Profiling the governed gateway under load showed Node's built-in fetch (undici, web streams,
 * abort signals) as its largest single cost, above every governance step.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

type FetchInit = Parameters<typeof nodeFetch>[1];

export const subgraphFetch = ((url: string, init?: FetchInit) => nodeFetch(url, { ...init, agent })) as never;

/** Why a subgraph fetch produced no answer; the data source turns it into SUBGRAPH_UNAVAILABLE. */
export class SubgraphDownError extends Error {
  override readonly name = 'SubgraphDownError';
  constructor(
    readonly why: 'timeout' | 'circuit-open' | 'unreachable',
    message: string,
  ) {
    super(message);
  }
}

/** Answers that say the subgraph (or what fronts it) is down rather than that the request was bad. */
const DOWN_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * The governed gateway's client: one deadline for the whole exchange (headers and body) of
 * `timeoutMs`, and a circuit breaker that fails fast while the subgraph is down.
 */
export function guardedSubgraphFetch(opts: { readonly timeoutMs: number; readonly breaker: CircuitBreaker }): never {
  const { timeoutMs, breaker } = opts;
  const fetcher = async (url: string, init?: FetchInit): Promise<Response> => {
    if (!breaker.tryAdmit()) throw new SubgraphDownError('circuit-open', 'subgraph failing fast after repeated failures');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await nodeFetch(url, { ...init, agent, signal: controller.signal });
      // Read the body inside the deadline: a subgraph that sends headers and then stalls is as down as one that never answers.
      const body = await res.buffer();
      breaker.record(!DOWN_STATUSES.has(res.status));
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers, url: res.url });
    } catch (e) {
      breaker.record(false);
      if (controller.signal.aborted) throw new SubgraphDownError('timeout', `no answer within ${timeoutMs} ms`);
      throw new SubgraphDownError('unreachable', (e as Error).message);
    } finally {
      clearTimeout(timer);
    }
  };
  return fetcher as never;
}
