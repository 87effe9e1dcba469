import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config.ts';
import { verificationKey } from '../../gateway/identity/keys.ts';
import { signToken } from '../../gateway/identity/token.ts';
import { silentLogger } from '../../gateway/log.ts';
import { startGateway } from '../../gateway/server.ts';
import { LEDGER_CHAIN, ledgerReader, parseRecorded } from '../../ledger/ledger.ts';
import type { Recorded } from '../../ledger/events.ts';
import { postGraphQL, ROOT, startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { answerWhen } from '../helpers/wait.ts';

const ENT = '91445202MA4W3K7PX2';
const MEMBER = 'code fullId division name nameEn kind responsiblePerson contact status registeredAt history { seq type at by reasons }';
const REGISTER = `mutation($i: MemberInput!) { registerMember(input: $i) { ${MEMBER} } }`;
const CHANGE = `mutation($i: MemberInput!) { changeMember(input: $i) { ${MEMBER} } }`;
const step = (name: 'suspendMember' | 'reinstateMember' | 'retireMember'): string => `mutation($c: String!, $r: String!) { ${name}(code: $c, reasons: $r) { ${MEMBER} } }`;
const COORDINATOR = { agency: 'itd', roles: ['coordinator'] } as const;
const REFERENCE = ['amr', 'civil', 'drc', 'eeb', 'hrss', 'itd', 'psb', 'stats', 'tax'];

interface MemberView {
  code: string;
  fullId: string;
  division: string;
  kind: string;
  responsiblePerson: string;
  status: string;
  history: { seq: number; type: string; by: string | null; reasons: string | null }[];
}

const input = (code: string, extra: Record<string, string> = {}) => ({
  code,
  division: '445200',
  name: `揭阳市${code}局`,
  nameEn: `${code} bureau`,
  kind: 'ADMINISTRATIVE_BODY',
  responsiblePerson: '周文斌',
  contact: '0663-8240210',
  ...extra,
});

function errorCode(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.['code'];
}

/** Runs a CLI as an operator would, on the exchange's DATA_DIR. */
function cli(name: 'token' | 'policy', args: string[], dataDir: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `cli/${name}.ts`, ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, REDIS_URL: '' }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function memberEvents(dataDir: string): Promise<Recorded[]> {
  const reader = ledgerReader({ dataDir, redisUrl: null });
  try {
    return (await reader.read(LEDGER_CHAIN, 0, 100_000)).map((r) => parseRecorded(r.line)).filter((e) => e.type.startsWith('member.'));
  } finally {
    await reader.close();
  }
}

describe('members as data: the directory the gateway and the exchange read from the ledger', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  const memberOf = (res: GraphQLResponse, field: string): MemberView => {
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.[field] as MemberView;
  };
  const register = async (code: string, extra: Record<string, string> = {}): Promise<MemberView> =>
    memberOf(await ex.query(REGISTER, { ...COORDINATOR, variables: { i: input(code, extra) } }), 'registerMember');
  const take = (name: 'suspendMember' | 'reinstateMember' | 'retireMember', code: string, reasons = '违反共享管理规定') =>
    ex.query(step(name), { ...COORDINATOR, variables: { c: code, r: reasons } });
  /** A cheap request the gateway answers only for an accepted token. */
  const ask = (agency: string) => ex.query('{ members(status: ACTIVE) { code } }', { agency });

  it('seeds the reference members once, active, in the region, with no actor', async () => {
    await ex.startAnotherGateway({ INSTANCE_ID: 'second-gateway' });
    const res = await ex.query(`{ members { ${MEMBER} } }`, { agency: 'tax' });
    expect(res.body.errors).toBeUndefined();
    const members = res.body.data?.['members'] as MemberView[];
    expect(members.map((m) => m.code)).toEqual(REFERENCE);
    for (const m of members) {
      expect(m).toMatchObject({ division: '445200', fullId: `445200/${m.code}`, status: 'ACTIVE', kind: 'ADMINISTRATIVE_BODY' });
      expect(m.responsiblePerson).not.toBe('');
      expect(m.history).toMatchObject([{ type: 'member.registered', by: null, reasons: null }]);
    }
    // The exchange subgraph and two gateways started on this ledger: each reference member registered once.
    const registered = (await memberEvents(ex.config.dataDir)).filter((e) => e.type === 'member.registered');
    expect(registered.map((e) => (e.type === 'member.registered' ? e.data.member.code : '')).sort()).toEqual(REFERENCE);
  });

  it('registers a member for a coordinator; its token is accepted and a grant to it lets it read', async () => {
    const audit = await register('audit', { name: '揭阳市审计局', nameEn: 'Audit Bureau' });
    expect(audit).toMatchObject({ code: 'audit', fullId: '445200/audit', status: 'ACTIVE', history: [{ type: 'member.registered', by: 'itd-tester (itd)' }] });

    expect((await answerWhen(() => ask('audit'), (r) => r.status === 200)).status).toBe(200);
    const filed = await ex.query(
      'mutation { fileSharingRequest(provider: "hrss", datasets: ["hrss.enterprise-insurance"], purposes: ["statistics"], legalBasis: "《中华人民共和国审计法》第三十四条", justification: "审计企业社保缴费", validUntil: "2027-12-31") { id } }',
      { agency: 'audit' },
    );
    expect(filed.body.errors).toBeUndefined();
    const id = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    const approved = await ex.query('mutation($id: ID!) { approveSharingRequest(id: $id) { status } }', { agency: 'hrss', variables: { id } });
    expect(approved.body.data).toEqual({ approveSharingRequest: { status: 'APPROVED' } });
    const read = await answerWhen(
      () => ex.query(`{ enterprise(uscc: "${ENT}") { insuredEmployees } }`, { agency: 'audit', purpose: 'statistics' }),
      (r) => r.body.errors === undefined,
    );
    expect(read.body.errors).toBeUndefined();
    expect(typeof (read.body.data?.['enterprise'] as { insuredEmployees: unknown }).insuredEmployees).toBe('number');

    // A new member shows in the authority's evaluation like the reference members.
    const year = new Date().getFullYear();
    const evaluation = await ex.query(`{ annualEvaluation(year: ${year}) { draft { agency } } }`, COORDINATOR);
    expect((evaluation.body.data?.['annualEvaluation'] as { draft: { agency: string }[] }).draft.map((r) => r.agency)).toContain('audit');
  });

  it('accepts a token whose agency is the full id of a member of this region, and refuses another region\'s id with 401', async () => {
    const full = await ex.query('{ member(code: "445200/tax") { code fullId } }', { agency: '445200/tax' });
    expect(full.status).toBe(200);
    expect(full.body.data).toEqual({ member: { code: 'tax', fullId: '445200/tax' } });

    const other = await ex.query('{ member(code: "tax") { code } }', { agency: '440000/tax' });
    expect(other.status).toBe(401);
    expect(errorCode(other)).toBe('UNAUTHENTICATED');
    expect(other.body.errors?.[0]?.message).toContain('"440000/tax" is not a registered member');
    expect(other.body.data).toBeUndefined();
  });

  it('refuses a suspended member\'s token with 401 naming the suspension, also one already used, and accepts it again once reinstated', async () => {
    await register('court');
    const token = ex.token('court');
    const withToken = () => postGraphQL(ex.url, '{ members { code } }', { authorization: `Bearer ${token}` }, ex.token);
    expect((await answerWhen(withToken, (r) => r.status === 200)).status).toBe(200);

    const suspended = memberOf(await take('suspendMember', 'court', '未按期答复共享申请'), 'suspendMember');
    expect(suspended.status).toBe('SUSPENDED');
    const refused = await answerWhen(withToken, (r) => r.status === 401);
    expect(refused.status).toBe(401);
    expect(errorCode(refused)).toBe('UNAUTHENTICATED');
    expect(refused.body.errors?.[0]?.message).toContain('member court is suspended');

    expect(memberOf(await take('reinstateMember', '445200/court', '已完成整改'), 'reinstateMember').status).toBe('ACTIVE');
    expect((await answerWhen(withToken, (r) => r.status === 200)).status).toBe(200);
  });

  it('refuses a retired member\'s token with 401, and never registers its code again', async () => {
    await register('bureau-x');
    const token = ex.token('bureau-x');
    const withToken = () => postGraphQL(ex.url, '{ members { code } }', { authorization: `Bearer ${token}` }, ex.token);
    expect((await answerWhen(withToken, (r) => r.status === 200)).status).toBe(200);

    const retired = memberOf(await take('retireMember', 'bureau-x', '机构改革，职能并入市场监督管理局'), 'retireMember');
    expect(retired.status).toBe('RETIRED');
    expect(retired.history.map((h) => [h.type, h.by, h.reasons])).toEqual([
      ['member.registered', 'itd-tester (itd)', null],
      ['member.retired', 'itd-tester (itd)', '机构改革，职能并入市场监督管理局'],
    ]);
    const refused = await answerWhen(withToken, (r) => r.status === 401);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.message).toContain('member bureau-x is retired');

    const again = await ex.query(REGISTER, { ...COORDINATOR, variables: { i: input('bureau-x') } });
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(again.body.errors?.[0]?.message).toContain('a retired code is never registered again');
    // Its record stays: listed as retired, and a request to it is refused by name.
    const listed = await ex.query('{ members(status: RETIRED) { code } }', { agency: 'tax' });
    expect(listed.body.data).toEqual({ members: [{ code: 'bureau-x' }] });
    const request = await ex.query(
      'mutation { fileSharingRequest(provider: "bureau-x", datasets: ["hrss.enterprise-insurance"], purposes: ["statistics"], legalBasis: "x", justification: "y", validUntil: "2027-12-31") { id } }',
      { agency: 'tax' },
    );
    expect(errorCode(request)).toBe('BAD_USER_INPUT');
    expect(request.body.errors?.[0]?.message).toBe('member bureau-x is retired');
  });

  it('npm run token and policy -- explain read the members from the ledger: a registered member gets a token, a retired one does not', async () => {
    await register('cli-body');
    const minted = cli('token', ['--agency', 'cli-body'], ex.config.dataDir);
    expect(minted.stderr).toBe('');
    expect(minted.status).toBe(0);
    const accepted = await answerWhen(() => postGraphQL(ex.url, '{ members { code } }', { authorization: `Bearer ${minted.stdout.trim()}` }, ex.token), (r) => r.status === 200);
    expect(accepted.status).toBe(200);
    const explained = cli('policy', ['explain', '--agency', '445200/cli-body', 'Enterprise.name'], ex.config.dataDir);
    expect(explained.status).toBe(0);
    expect(explained.stdout).toContain('Enterprise.name for cli-body');

    await take('retireMember', 'cli-body', '撤销');
    const refused = cli('token', ['--agency', 'cli-body'], ex.config.dataDir);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toBe('token: member cli-body is retired: the gateway refuses its tokens');
    const unknown = cli('token', ['--agency', '440000/tax'], ex.config.dataDir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('token: unknown agency "440000/tax": not a member of this exchange');
  });

  it('explains decisions for a registered member by code or full id, and refuses a non-member with BAD_USER_INPUT', async () => {
    await register('explained');
    const explain = (agency: string) =>
      ex.query('query($a: String!) { explainDecision(agency: $a, coordinate: "Enterprise.name") { decision reason } }', { agency: 'itd', roles: ['policy-maintainer'], variables: { a: agency } });
    for (const agency of ['explained', '445200/explained']) {
      const res = await explain(agency);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({ explainDecision: { decision: 'ALLOW', reason: 'UNCONDITIONAL' } });
    }
    const other = await explain('440000/explained');
    expect(errorCode(other)).toBe('BAD_USER_INPUT');
    expect(other.body.errors?.[0]?.message).toContain('is not a member of this exchange');
  });

  it('changes a member\'s terms, keeping its code and history', async () => {
    await register('records');
    const changed = memberOf(await ex.query(CHANGE, { ...COORDINATOR, variables: { i: input('records', { division: '445222', responsiblePerson: '方晓东' }) } }), 'changeMember');
    expect(changed).toMatchObject({ code: 'records', division: '445222', fullId: '445222/records', responsiblePerson: '方晓东', status: 'ACTIVE' });
    expect(changed.history.map((h) => h.type)).toEqual(['member.registered', 'member.changed']);
  });

  it.each([
    ['tax with role coordinator', { agency: 'tax', roles: ['coordinator'] }],
    ['itd without role coordinator', { agency: 'itd', roles: ['auditor'] }],
  ])('refuses every member step to %s with FORBIDDEN', async (_, who) => {
    const registered = await ex.query(REGISTER, { ...who, variables: { i: input('forbidden-x') } });
    expect(errorCode(registered)).toBe('FORBIDDEN');
    expect(registered.body.errors?.[0]?.extensions?.['sharing']).toMatchObject({ coordinate: 'Mutation.registerMember', reason: 'ROLE_REQUIRED' });
    const suspended = await ex.query(step('suspendMember'), { ...who, variables: { c: 'amr', r: '测试' } });
    expect(errorCode(suspended)).toBe('FORBIDDEN');
    const amr = await ex.query('{ member(code: "amr") { status } }', { agency: 'tax' });
    expect(amr.body.data).toEqual({ member: { status: 'ACTIVE' } });
  });

  it.each([
    ['a code with capitals', REGISTER, { i: input('Tax!') }, 'input.code', 'lower-case'],
    ['a division of five digits', REGISTER, { i: input('newbody', { division: '44520' }) }, 'input.division', 'GB/T 2260'],
    ['a code already registered', REGISTER, { i: input('tax') }, 'input.code', 'already registered (445200/tax)'],
    ['an empty responsible person', REGISTER, { i: input('newbody', { responsiblePerson: ' ' }) }, 'input.responsiblePerson', 'must be written out'],
    ['a change of an unknown member', CHANGE, { i: input('nobody') }, 'input.code', 'unknown member "nobody"'],
    ['suspending an unknown member', step('suspendMember'), { c: 'nobody', r: '测试' }, 'code', 'unknown member "nobody"'],
    ['suspending another region\'s id', step('suspendMember'), { c: '440000/tax', r: '测试' }, 'code', 'unknown member "440000/tax"'],
    ['suspending without reasons', step('suspendMember'), { c: 'amr', r: '  ' }, 'reasons', 'reasons must be written out'],
    ['reinstating an active member', step('reinstateMember'), { c: 'amr', r: '测试' }, 'code', 'member amr is not suspended'],
    ['retiring the authority', step('retireMember'), { c: 'itd', r: '测试' }, 'code', 'itd is the authority'],
  ])('refuses %s with BAD_USER_INPUT naming what was wrong', async (_, mutation, variables, argument, message) => {
    const res = await ex.query(mutation, { ...COORDINATOR, variables });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0]?.extensions?.['argument']).toBe(argument);
    expect(res.body.errors?.[0]?.message).toContain(message);
  });
});

describe('a gateway started alone on a fresh DATA_DIR', () => {
  it('registers the reference members itself and accepts their tokens', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'members-alone-'));
    const config = loadConfig({ DATA_DIR: path.join(tmp, 'data'), POLICY_DIR: path.join(ROOT, 'policies'), SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'), PORT: '0' });
    const gateway = await startGateway(config, { log: silentLogger });
    try {
      const token = (agency: string): string => signToken(verificationKey(config), { agency, roles: [], ttlSeconds: 600, sub: `${agency}-tester` }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
      // Answered by the gateway itself: no subgraph runs here.
      const res = await postGraphQL(gateway.url, '{ mayRead(coordinate: "Enterprise.name") { decision } }', { agency: 'tax' }, token);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ mayRead: { decision: 'ALLOW' } });
      const registered = (await memberEvents(config.dataDir)).filter((e) => e.type === 'member.registered' && e.actor === null);
      expect(registered).toHaveLength(REFERENCE.length);
    } finally {
      await gateway.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('registers each reference member once when two gateways start on it at the same moment', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'members-race-'));
    const env = { DATA_DIR: path.join(tmp, 'data'), POLICY_DIR: path.join(ROOT, 'policies'), SUPERGRAPH_PATH: path.join(ROOT, 'schema/supergraph.graphql'), PORT: '0' };
    const gateways = await Promise.all(['race-a', 'race-b'].map((instance) => startGateway(loadConfig({ ...env, INSTANCE_ID: instance }), { log: silentLogger })));
    try {
      const registered = (await memberEvents(env.DATA_DIR)).flatMap((e) => (e.type === 'member.registered' ? [e.data.member.code] : []));
      expect(registered.sort()).toEqual(REFERENCE);
    } finally {
      for (const g of gateways) await g.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
