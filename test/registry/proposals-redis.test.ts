import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaysOverOneRedis, type RedisGateways } from '../helpers/redis-gateways.ts';
import { ROOT } from '../helpers/root.ts';
import { INVOICES } from './proposal.ts';

describe('the registry on a Redis ledger', () => {
  let redis: RedisGateways;
  beforeAll(async () => {
    redis = await gatewaysOverOneRedis([], (c) => c, Date.now());
  });
  afterAll(async () => {
    await redis.close();
  });

  it('records version 1 on first start, publishes an approved proposal as version 2, and npm run registry -- list reads both from Redis', async () => {
    const { ex } = redis;
    expect((await ex.query('{ supergraphVersions { version } }')).body.data?.['supergraphVersions']).toEqual([{ version: 1 }]);
    const proposed = await ex.query('mutation($i: SubgraphProposalInput!) { proposeSubgraph(input: $i) { id } }', { agency: 'tax', variables: { i: INVOICES } });
    const id = (proposed.body.data?.['proposeSubgraph'] as { id: string }).id;
    const approved = await ex.query(`mutation { approveProposal(id: "${id}", reasons: "ok") { version current } }`, { agency: 'itd', roles: ['coordinator'] });
    expect(approved.body.data?.['approveProposal']).toEqual({ version: 2, current: true });

    const list = spawnSync(process.execPath, ['--import', 'tsx', 'cli/registry.ts', 'list'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: ex.config.dataDir, REDIS_URL: ex.config.redisUrl!, REDIS_PREFIX: ex.config.redisPrefix },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/supergraph versions \(2\):/);
    expect(list.stdout).toMatch(new RegExp(`\\* +2 .* proposal ${id}: ok`));
  });
});
