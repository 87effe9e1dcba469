import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../ledger/ledger.ts';
import type { RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { postGraphQL, type GraphQLResponse } from '../helpers/exchange.ts';
import { gatewaysOverOneRedis, type RedisGateways } from '../helpers/redis-gateways.ts';
import { authorityLedger, composeWithStamp, healthOf, publish, startStamp, untilServed } from '../helpers/supergraph-versions.ts';
import { until } from '../helpers/wait.ts';

const CLIENTS = 32;
/** The stamp subgraphs' answer time: requests are still in flight when a version switches. */
const LATENCY_MS = 30;

/**
 * One operation that tells the versions apart in everything it touches: `stamp` is fetched from
 * the stamp subgraph of the version (a server answering "one" in versions 1 and 3, "two" in
 * version 2), `mayRead` is decided by the gateway, and introspection lists `stampTwo` in version 2
 * only. It is valid in every version, so no answer may fail.
 */
const PROBE = `{
  enterprise(uscc: "91445202MA4W3K7PX2") { name stamp }
  mayRead(coordinate: "Enterprise.stamp") { decision reason }
  __type(name: "Enterprise") { fields { name } }
}`;

/** What an answer of each version holds (version 1, the reference composition, has no stamp subgraph). */
const EXPECTED: Record<string, { stamp: string; stampTwo: boolean }> = {
  '2': { stamp: 'one', stampTwo: false },
  '3': { stamp: 'two', stampTwo: true },
  '4': { stamp: 'one', stampTwo: false },
};

interface Answer {
  readonly gateway: number;
  readonly status: number;
  readonly version: string | null;
  readonly body: GraphQLResponse['body'];
}

describe('supergraph versions on two gateways over Redis', () => {
  let env: RedisGateways;
  let ledger: Ledger;
  let one: RunningSubgraph;
  let two: RunningSubgraph;
  let urls: string[];
  beforeAll(async () => {
    env = await gatewaysOverOneRedis(['versions-second'], (c) => c, Date.now());
    urls = [env.ex.url, env.gateways[0]!.url];
    ledger = await authorityLedger(env.ex.config);
    one = await startStamp(env.ex.config, 'one', false, LATENCY_MS);
    two = await startStamp(env.ex.config, 'two', true, LATENCY_MS);
  });
  afterAll(async () => {
    await ledger.close();
    await env.close();
    await one.close();
    await two.close();
  });

  it('answers every request of 32 clients through a publish and a rollback, each on the version it started on', async () => {
    const token = env.ex.token;
    // Version 1 is the reference composition the exchange recorded on its first start.
    for (const url of urls) await untilServed(url, token, '1');
    const v2 = composeWithStamp(one.url, false);
    await publish(ledger, 2, v2);
    for (const url of urls) await untilServed(url, token, '2');

    const answers: Answer[] = [];
    let running = true;
    const client = async (i: number): Promise<void> => {
      const gateway = i % urls.length;
      while (running) {
        const res = await postGraphQL(urls[gateway]!, PROBE, { agency: i % 3 === 0 ? 'hrss' : 'tax' }, token);
        answers.push({ gateway, status: res.status, version: res.headers.get('x-supergraph-version'), body: res.body });
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
    // Each switch happens under load: some answers of the old version come first, then of the new one on both gateways.
    const seen = (version: string, n: number): boolean => urls.every((_, g) => answers.filter((a) => a.gateway === g && a.version === version).length >= n);
    try {
      await until(() => seen('2', 20), 'answers of version 2');
      await publish(ledger, 3, composeWithStamp(two.url, true));
      await until(() => seen('3', 20), 'answers of version 3 from both gateways');
      await publish(ledger, 4, v2, { rollbackOf: 2 });
      await until(() => seen('4', 20), 'answers of version 4 from both gateways');
    } finally {
      running = false;
      await Promise.all(clients);
    }

    const failed = answers.filter((a) => a.status !== 200 || a.body.errors !== undefined);
    expect(failed.slice(0, 3), `${failed.length} failed answers`).toEqual([]);
    const wrong = answers.filter((a) => {
      const expected = EXPECTED[a.version ?? ''];
      if (expected === undefined) return true;
      const data = a.body.data as { enterprise: { stamp: string }; mayRead: { decision: string }; __type: { fields: { name: string }[] } };
      return data.enterprise.stamp !== expected.stamp || data.__type.fields.some((f) => f.name === 'stampTwo') !== expected.stampTwo || data.mayRead.decision !== 'ALLOW';
    });
    expect(wrong.slice(0, 3), `${wrong.length} answers that do not match their version`).toEqual([]);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['2', '3', '4']));
    for (const url of urls) expect((await healthOf(url, token))['supergraph']).toMatchObject({ version: 4, rollbackOf: 2, newestRefused: null });
  });
});
