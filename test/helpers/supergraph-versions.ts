import { createHash } from 'node:crypto';
import { parse } from 'graphql';
import type { Config } from '../../gateway/config.ts';
import { gatewayPublicKey } from '../../common/trust-keys.ts';
import type { SupergraphVersion } from '../../ledger/events.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { postGraphQL, type GraphQLResponse } from './exchange.ts';
import { until } from './wait.ts';

/**
 * Supergraph versions for tests: a small extra subgraph `stamp` (tax's dataset `tax.stamps`,
 * extending Enterprise), composed with the reference subgraphs and published on the ledger
 * directly, as an approval would.
 */

export const STAMP = 'stamp';

const HEAD = `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])
  @link(url: "https://exchange.gd.gov.cn/sharing/v1.0", import: ["@dataset"])
  @composeDirective(name: "@dataset")

directive @dataset(id: String!, class: String!, sensitivity: String) on FIELD_DEFINITION

scalar USCC
`;

/** The stamp subgraph's SDL: `stamp`, with `second` also `stampTwo` (a field only version 2 has), and `extra` field lines. */
export function stampSdl(second: boolean, extra = ''): string {
  return `${HEAD}
type Enterprise @key(fields: "uscc") {
  uscc: USCC!
  stamp: String @dataset(id: "tax.stamps", class: "UNCONDITIONAL")
${second ? '  stampTwo: String @dataset(id: "tax.stamps", class: "UNCONDITIONAL")\n' : ''}${extra}}
`;
}

/**
 * A stamp subgraph answering `stamp` with `value` (and `stampTwo` when its SDL has it), after
 * `latencyMs`: a subgraph that takes its time keeps more requests in flight across a switch.
 * `extra`: field lines its SDL adds (resolved `condStamp` only).
 */
export async function startStamp(config: Config, value: string, second: boolean, latencyMs = 0, extra = ''): Promise<RunningSubgraph> {
  const answer = (uscc: string) => ({ uscc, stamp: value, stampTwo: `${value}-two`, condStamp: `${value}-conditional` });
  return startSubgraphServer(
    {
      name: STAMP,
      typeDefs: parse(stampSdl(second, extra)),
      resolvers: {
        Enterprise: {
          __resolveReference: (ref: { uscc: string }) => (latencyMs === 0 ? answer(ref.uscc) : new Promise((resolve) => setTimeout(() => resolve(answer(ref.uscc)), latencyMs))),
        },
      },
    },
    { host: '127.0.0.1', port: 0, gatewayPublicKey: gatewayPublicKey(config) },
  );
}

/** The reference subgraphs plus the stamp subgraph at `url`: a supergraph SDL. */
export function composeWithStamp(url: string, second: boolean, extra = ''): string {
  const result = compose([...referenceSubgraphs(), { name: STAMP, agency: 'tax', url, sdl: stampSdl(second, extra) }]);
  if (!result.ok) throw new Error(`composition failed: ${result.errors.join('; ')}`);
  return result.supergraphSdl;
}

export const hashOf = (sdl: string): string => createHash('sha256').update(sdl).digest('hex');

/** The ledger the gateways of `config` follow, opened by the test as the authority would. */
export function authorityLedger(config: Config): Promise<Ledger> {
  return openLedger({ dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, logSigningKey: config.logSigningKey });
}

/** Records a `supergraph.published` of `sdl` as version `version` (hash computed unless given). */
export async function publish(ledger: Ledger, version: number, sdl: string, opts: { rollbackOf?: number; hash?: string } = {}): Promise<SupergraphVersion> {
  const data: SupergraphVersion = {
    version,
    hash: opts.hash ?? hashOf(sdl),
    supergraphSdl: sdl,
    subgraphs: [],
    catalog: {},
    proposal: null,
    rollbackOf: opts.rollbackOf ?? null,
    reasons: opts.rollbackOf === undefined ? `test version ${version}` : `roll back to version ${opts.rollbackOf}`,
  };
  await ledger.record({ type: 'supergraph.published', data }, { sub: 'itd-coordinator', agency: 'itd' });
  return data;
}

/** The supergraph version a gateway answers with now (`x-supergraph-version` of a small query). */
export async function servedVersion(url: string, token: (agency: string, roles?: readonly string[]) => string): Promise<string | null> {
  const res = await postGraphQL(url, '{ __typename }', { agency: 'tax' }, token);
  return res.headers.get('x-supergraph-version');
}

/** Waits until the gateway at `url` answers on version `version`. */
export async function untilServed(url: string, token: (agency: string, roles?: readonly string[]) => string, version: string): Promise<void> {
  await until(async () => (await servedVersion(url, token)) === version, `${url} to serve supergraph version ${version}`);
}

/** GET /health as the authority's coordinator. */
export async function healthOf(url: string, token: (agency: string, roles?: readonly string[]) => string): Promise<Record<string, unknown>> {
  const res = await fetch(url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${token('itd', ['coordinator'])}` } });
  return (await res.json()) as Record<string, unknown>;
}

export type { GraphQLResponse };

/** A stamp subgraph whose answers wait while its gate is closed: a request held in flight on purpose. */
export interface GatedStamp {
  readonly url: string;
  /** Requests waiting at the gate now. */
  waiting(): number;
  close(): void;
  open(): void;
  stop(): Promise<void>;
}

export async function startGatedStamp(config: Config, value: string, second: boolean): Promise<GatedStamp> {
  let gate: Promise<void> | null = null;
  let release = (): void => undefined;
  let waiting = 0;
  const server = await startSubgraphServer(
    {
      name: STAMP,
      typeDefs: parse(stampSdl(second)),
      resolvers: {
        Enterprise: {
          __resolveReference: async (ref: { uscc: string }) => {
            if (gate !== null) {
              waiting++;
              await gate;
              waiting--;
            }
            return { uscc: ref.uscc, stamp: value, stampTwo: `${value}-two` };
          },
        },
      },
    },
    { host: '127.0.0.1', port: 0, gatewayPublicKey: gatewayPublicKey(config) },
  );
  return {
    url: server.url,
    waiting: () => waiting,
    close() {
      gate ??= new Promise((resolve) => (release = resolve));
    },
    open() {
      gate = null;
      release();
    },
    stop: () => server.close(),
  };
}
