import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import nodeFetch from 'node-fetch';
import type { SubgraphClientTls } from '../common/config-values.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';

/**
 * The tuned bare gateway's client (the benchmark's baseline): node-fetch over a keep-alive agent.
 * Profiling showed Node's built-in fetch (undici, web streams, abort signals) as the largest
 * single cost of a gateway, above every governance step.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });
/** One keep-alive agent per TLS setting (in practice one per gateway): its sessions are reused across subgraphs. */
const tlsAgents = new WeakMap<SubgraphClientTls, HttpsAgent>();

function agentFor(tls: SubgraphClientTls | undefined): HttpsAgent {
  if (tls === undefined || (tls.ca === null && tls.cert === null)) return httpsAgent;
  let found = tlsAgents.get(tls);
  if (found === undefined) {
    found = new HttpsAgent({
      keepAlive: true,
      maxSockets: 256,
      ...(tls.ca === null ? {} : { ca: tls.ca }),
      ...(tls.cert === null || tls.key === null ? {} : { cert: tls.cert, key: tls.key }),
    });
    tlsAgents.set(tls, found);
  }
  return found;
}

type FetchInit = Parameters<typeof nodeFetch>[1];

export const subgraphFetch = ((url: string, init?: FetchInit) => nodeFetch(url, { ...init, agent })) as never;

/** Why a subgraph fetch produced no answer; the data source turns it into SUBGRAPH_UNAVAILABLE. */
export class SubgraphDownError extends Error {
  override readonly name = 'SubgraphDownError';
  constructor(
    readonly why: 'timeout' | 'circuit-open' | 'unreachable' | 'bad-answer',
    message: string,
  ) {
    super(message);
  }
}

/** Answers that say the subgraph (or what fronts it) is down rather than that the request was bad. */
const DOWN_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** A subgraph's parsed GraphQL answer, with its Cache-Control header for the response's cache policy. */
export interface SubgraphAnswer {
  readonly body: Record<string, unknown>;
  readonly cacheControl: string | undefined;
}

export type SubgraphPost = (body: string, headers: Readonly<Record<string, string>>) => Promise<SubgraphAnswer>;

/**
 * The governed gateway's client: one POST over node:http (keep-alive), the body read as one
 * buffer and parsed once; no fetch Request/Response/Headers objects or body streams per call.
 * One deadline covers the whole exchange (headers and body) of `timeoutMs`, and a circuit breaker
 * fails fast while the subgraph is down. It accepts what @apollo/gateway's own data source
 * accepts: a 2xx answer with a JSON (or graphql-response+json) body that is an object. An https
 * subgraph is checked against `tls.ca` (SUBGRAPH_TLS_CA) and sent the gateway's client certificate
 * when one is configured.
 */
export function subgraphPost(url: string, opts: { readonly timeoutMs: number; readonly breaker: CircuitBreaker; readonly tls?: SubgraphClientTls }): SubgraphPost {
  const { timeoutMs, breaker } = opts;
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const base = {
    protocol: target.protocol,
    hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
    port: target.port === '' ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    // Plain http keeps its own agent and takes no TLS work at all.
    agent: secure ? agentFor(opts.tls) : agent,
  } as const;
  return (body, headers) =>
    new Promise<SubgraphAnswer>((resolve, reject) => {
      if (!breaker.tryAdmit()) {
        reject(new SubgraphDownError('circuit-open', 'subgraph failing fast after repeated failures'));
        return;
      }
      let settled = false;
      const fail = (e: SubgraphDownError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        breaker.record(false);
        req.destroy();
        reject(e);
      };
      const req = send({ ...base, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(new SubgraphDownError('unreachable', e.message)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          breaker.record(!DOWN_STATUSES.has(status));
          if (status < 200 || status > 299) {
            reject(new SubgraphDownError('bad-answer', `HTTP ${status}`));
            return;
          }
          const type = res.headers['content-type'] ?? '';
          if (!type.startsWith('application/json') && !type.startsWith('application/graphql-response+json')) {
            reject(new SubgraphDownError('bad-answer', `content-type ${type.slice(0, 80)}`));
            return;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new SubgraphDownError('bad-answer', 'body is not JSON'));
            return;
          }
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
            reject(new SubgraphDownError('bad-answer', 'body is not a JSON object'));
            return;
          }
          const cc = res.headers['cache-control'];
          resolve({ body: parsed as Record<string, unknown>, cacheControl: cc });
        });
      });
      const timer = setTimeout(() => fail(new SubgraphDownError('timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => fail(new SubgraphDownError('unreachable', e.message)));
      req.end(body);
    });
}

/** What a health probe got back: the HTTP status and the body parsed as JSON (null when it is not). */
export interface ProbeAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * One POST for a health probe, outside the circuit breaker (a probe must see a subgraph come back)
 * but through the same agents as requests, so an https subgraph is checked against the same
 * SUBGRAPH_TLS_CA and shown the same client certificate. Rejects on no answer within `timeoutMs`.
 */
export function probePost(url: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number, tls?: SubgraphClientTls): Promise<ProbeAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise<ProbeAnswer>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(target, { method: 'POST', agent: secure ? agentFor(tls) : agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // not JSON: the caller sees null
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    // One deadline for the whole exchange, as for requests: a subgraph that trickles counts as down.
    const timer = setTimeout(() => req.destroy(new SubgraphDownError('timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}
