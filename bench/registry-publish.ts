import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import type { Config } from '../gateway/config.ts';
import type { SupergraphVersion } from '../ledger/events.ts';
import { openLedger } from '../ledger/ledger.ts';
import { openRegistry } from '../ledger/registry.ts';
import { compose, referenceSubgraphs } from '../subgraphs/compose.ts';

/**
 * Requests/s through a supergraph publish against steady state (target: at least 0.95×). One
 * governed gateway (already running, following the ledger of `config`) takes the same load twice
 * per round: once steady, once while a new supergraph version is published on its ledger halfway
 * through. Each version is the reference composition with the `amr` subgraph's URL marked with the
 * version number: a different supergraph (new hash, schema, query planner, data source, cold
 * caches) that still routes where SUBGRAPH_URL_AMR says. Switching costs the gateway CPU time
 * (ApolloGateway builds the schema, the plan executor its planner), which the run's requests/s
 * pays once.
 */

export interface PublishBenchOptions {
  readonly config: Config;
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly rounds: number;
}

export interface PublishRound {
  readonly steady: number;
  readonly publishing: number;
  /** Versions published during the publishing run (one), and the version the gateway answered on at its end. */
  readonly published: number;
  readonly servedAtEnd: string | null;
  readonly errors: number;
  readonly non2xx: number;
}

export interface PublishBench {
  readonly rounds: readonly PublishRound[];
  /** Median requests/s, steady and through publishes, and their ratio. */
  readonly steady: number;
  readonly publishing: number;
  readonly ratio: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Composed once, before anything is measured: composing is the authority's work, not the gateway's. */
function versionSdls(): (version: number) => string {
  const amr = referenceSubgraphs().find((s) => s.name === 'amr')!;
  const result = compose(referenceSubgraphs());
  if (!result.ok) throw new Error(`bench: the reference subgraphs do not compose: ${result.errors.join('; ')}`);
  const sdl = result.supergraphSdl;
  const at = `url: "${amr.url}"`;
  if (!sdl.includes(at)) throw new Error('bench: the supergraph does not name the amr subgraph\'s URL');
  return (version) => sdl.replace(at, `url: "${amr.url}?v=${version}"`);
}

export async function runPublishBench(opts: PublishBenchOptions): Promise<PublishBench> {
  const { config } = opts;
  const ledger = await openLedger({ dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, logSigningKey: config.logSigningKey });
  // Numbered after what is published already (version 1, recorded by the exchange on its first start).
  const registry = await openRegistry(ledger);
  let version = registry.current()?.version ?? 0;
  registry.stop();
  const versionSdl = versionSdls();
  const publish = async (): Promise<void> => {
    version++;
    const sdl = versionSdl(version);
    const data: SupergraphVersion = { version, hash: createHash('sha256').update(sdl).digest('hex'), supergraphSdl: sdl, subgraphs: [], catalog: {}, proposal: null, rollbackOf: null, reasons: `bench version ${version}` };
    await ledger.record({ type: 'supergraph.published', data }, { sub: 'bench', agency: 'itd' });
  };
  const served = async (): Promise<string | null> => {
    const res = await fetch(opts.url, { method: 'POST', headers: { 'content-type': 'application/json', ...opts.headers }, body: opts.body });
    await res.text();
    return res.headers.get('x-supergraph-version');
  };
  const request = { url: opts.url, method: 'POST' as const, body: opts.body, headers: { 'content-type': 'application/json', ...opts.headers }, connections: opts.connections };
  const rounds: PublishRound[] = [];
  try {
    // The gateway starts on a published version, so that every run is on versions alike.
    await publish();
    while ((await served()) !== String(version)) await new Promise((r) => setTimeout(r, 100));
    await autocannon({ ...request, duration: opts.durationSeconds });
    const steadyRun = (): Promise<autocannon.Result> => autocannon({ ...request, duration: opts.durationSeconds });
    for (let i = 0; i < opts.rounds; i++) {
      // Which run goes first alternates, so that neither always gets the warmer gateway.
      const first = i % 2 === 0 ? await steadyRun() : null;
      const before = version;
      let publishing = Promise.resolve();
      const timer = setTimeout(() => {
        publishing = publish().catch((e: unknown) => console.error(`bench: publish failed: ${(e as Error).message}`));
      }, (opts.durationSeconds * 1000) / 2);
      let through: autocannon.Result;
      try {
        through = await autocannon({ ...request, duration: opts.durationSeconds });
      } finally {
        clearTimeout(timer);
        await publishing;
      }
      const steady = first ?? (await steadyRun());
      rounds.push({
        steady: Math.round(steady.requests.average),
        publishing: Math.round(through.requests.average),
        published: version - before,
        servedAtEnd: await served(),
        errors: steady.errors + steady.timeouts + through.errors + through.timeouts,
        non2xx: steady.non2xx + through.non2xx,
      });
    }
  } finally {
    await ledger.close();
  }
  const steady = median(rounds.map((r) => r.steady));
  const publishing = median(rounds.map((r) => r.publishing));
  return { rounds, steady, publishing, ratio: publishing / steady };
}

export function printPublishBench(b: PublishBench): void {
  console.log('\nregistry: requests/s through a supergraph publish against steady state');
  console.log('| round | steady req/s | through a publish req/s | ratio | versions published | served at the end | errors | non-2xx |');
  console.log('|---:|---:|---:|---:|---:|---|---:|---:|');
  b.rounds.forEach((r, i) => console.log(`| ${i + 1} | ${r.steady} | ${r.publishing} | ${(r.publishing / r.steady).toFixed(2)} | ${r.published} | ${r.servedAtEnd ?? 'none'} | ${r.errors} | ${r.non2xx} |`));
  console.log(`through a publish / steady (medians): ${b.ratio.toFixed(2)}\u00d7 (target at least 0.95\u00d7: ${b.ratio >= 0.95 ? 'PASS' : 'MISS'})`);
}
