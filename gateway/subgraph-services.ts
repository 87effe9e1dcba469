import type { ServiceEndpointDefinition } from '@apollo/gateway';
import type { SubgraphClientTls } from '../common/config-values.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { GatewayContext } from './governed.ts';
import type { Logger } from './log.ts';
import { SubgraphDataSource } from './subgraph-data-source.ts';
import { subgraphPost } from './subgraph-fetch.ts';

/** Three failures in a row open a subgraph's circuit; a probe goes through every 2 s while open. */
const BREAKER = { failureThreshold: 3, cooldownMs: 2000 } as const;

export interface SubgraphServicesOptions {
  /** SUBGRAPH_URLS: where a subgraph is reached when not at the URL the supergraph names. */
  readonly overrides: ReadonlyMap<string, string>;
  readonly timeoutMs: number;
  /** SUBGRAPH_TLS_*: how https subgraphs are checked, and the client certificate shown to them. */
  readonly tls: SubgraphClientTls;
  readonly sign: (id: GatewayContext['caller'], subgraph: string, operation?: string) => Promise<string>;
  readonly log: Logger;
}

/**
 * The gateway's data source per subgraph, each behind its own circuit breaker. /health reads the
 * URLs and circuits the gateway built, filled in as Apollo builds each service.
 */
export interface SubgraphServices {
  readonly urls: ReadonlyMap<string, string>;
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  readonly buildService: (definition: ServiceEndpointDefinition) => SubgraphDataSource;
}

export function subgraphServices(opts: SubgraphServicesOptions): SubgraphServices {
  const { overrides, timeoutMs, tls, sign, log } = opts;
  const urls = new Map<string, string>();
  const breakers = new Map<string, CircuitBreaker>();
  return {
    urls,
    breakers,
    buildService: ({ name, url }) => {
      const target = overrides.get(name) ?? url ?? '';
      urls.set(name, target);
      const breaker = new CircuitBreaker(BREAKER, (from, to) => {
        if (to === 'open' && from === 'closed') log.warn(`subgraph ${name}: ${BREAKER.failureThreshold} failures in a row; failing fast, probing again every ${BREAKER.cooldownMs} ms`);
        else if (to === 'closed') log.info(`subgraph ${name}: answering again`);
      });
      breakers.set(name, breaker);
      return new SubgraphDataSource(name, sign, subgraphPost(target, { timeoutMs, breaker, tls }));
    },
  };
}
