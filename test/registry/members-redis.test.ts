import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_CHAIN, ledgerReader, parseRecorded } from '../../ledger/ledger.ts';
import { postGraphQL } from '../helpers/exchange.ts';
import { gatewaysOverOneRedis, type RedisGateways } from '../helpers/redis-gateways.ts';
import { answerWhen } from '../helpers/wait.ts';

const MEMBER_INPUT = { code: 'audit', division: '445200', name: '揭阳市审计局', nameEn: 'Audit Bureau', kind: 'ADMINISTRATIVE_BODY', responsiblePerson: '周文斌', contact: '0663-8240210' };

describe('members on a Redis ledger, shared by every gateway', () => {
  let redis: RedisGateways;
  beforeAll(async () => {
    redis = await gatewaysOverOneRedis(['members-second'], (c) => c, Date.now());
  });
  afterAll(async () => {
    await redis.close();
  });

  it('seeds the reference members once for the exchange and both gateways, and a suspension on one is a 401 on the other', async () => {
    const { ex, gateways } = redis;
    const reader = ledgerReader({ dataDir: ex.config.dataDir, redisUrl: ex.config.redisUrl, redisPrefix: ex.config.redisPrefix });
    try {
      // The ledger holds each reference member's registration once, whoever started first.
      const events = (await reader.read(LEDGER_CHAIN, 0, 100_000)).map((rec) => parseRecorded(rec.line));
      const codes = events.flatMap((e) => (e.type === 'member.registered' ? [e.data.member.code] : []));
      expect(codes.sort()).toEqual(['amr', 'civil', 'drc', 'eeb', 'hrss', 'itd', 'psb', 'stats', 'tax']);
    } finally {
      await reader.close();
    }

    const registered = await ex.query('mutation($i: MemberInput!) { registerMember(input: $i) { status } }', { agency: 'itd', roles: ['coordinator'], variables: { i: MEMBER_INPUT } });
    expect(registered.body.data).toEqual({ registerMember: { status: 'ACTIVE' } });
    const token = ex.token('audit');
    const onSecond = () => postGraphQL(gateways[0]!.url, '{ member(code: "audit") { status } }', { authorization: `Bearer ${token}` }, ex.token);
    expect((await answerWhen(onSecond, (res) => res.status === 200)).body.data).toEqual({ member: { status: 'ACTIVE' } });

    const suspended = await ex.query('mutation { suspendMember(code: "audit", reasons: "逾期未整改") { status } }', { agency: 'itd', roles: ['coordinator'] });
    expect(suspended.body.data).toEqual({ suspendMember: { status: 'SUSPENDED' } });
    const refused = await answerWhen(onSecond, (res) => res.status === 401);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(refused.body.errors?.[0]?.message).toContain('member audit is suspended');
  });
});
