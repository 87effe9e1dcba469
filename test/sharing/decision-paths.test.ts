import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newEnforcer, newModel, type Enforcer } from 'casbin';
import { buildSchema, isObjectType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURPOSE_CODES } from '../../common/vocabulary.ts';
import { referenceDirectory } from '../../ledger/members.ts';
import { mayRead } from '../../gateway/may-read.ts';
import { oversightAnswers } from '../../gateway/oversight-answers.ts';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { openSharingPolicy, type SharingPolicy } from '../../gateway/sharing/policy.ts';
import type { Caller } from '../../gateway/sharing/types.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

/**
 * One decision path: the read, Query.mayRead, Query.explainDecision (the console's explain),
 * `npm run policy -- explain` and a plain Casbin enforcer over the same files answer alike for
 * every field of the supergraph, every agency, role set and purpose, with a suspension, a
 * STATE_SECRET dataset and an expired grant among the lines.
 */

const supergraph = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8');
const catalog = readCatalog(supergraph);
const NOW = Date.parse('2026-06-01T00:00:00Z');
const ROLE_SETS: readonly (readonly string[])[] = [[], ['auditor'], ['policy-maintainer'], ['coordinator'], ['auditor', 'coordinator', 'policy-maintainer']];
const PURPOSES: readonly (string | null)[] = [null, ...PURPOSE_CODES];
const AGENCIES = referenceDirectory('445200').list().map((m) => m.code);

/** Lines added to the reference policy: a suspension in force, STATE_SECRET grants with and without a filed agreement, an expired grant. */
const EXTRA = `s, tax, hrss.enterprise-insurance, 2026-05-01, 2026-07-01, audit finding F-1
s, civil, *, 2026-05-01, 2026-07-01, audit finding F-2
p2, g-diff-secret-hrss, hrss, psb.secret-posts, public-security, 2026-01-01, 2028-01-01, test basis
p2, g-diff-secret-amr, amr, psb.secret-posts, administrative-licensing, 2026-01-01, 2028-01-01, test basis
p3, a-diff-secret-hrss, hrss, psb, psb.secret-posts, 2025-12-01, 2028-01-01, false, agreement not filed with the secrecy bureau
p3, a-diff-secret-amr, amr, psb, psb.secret-posts, 2025-12-01, 2028-01-01, true, agreement filed with the secrecy bureau
p2, g-diff-expired, eeb, tax.credit-rating, environmental-enforcement, 2024-01-01, 2025-01-01, test basis
`;

/** Every field of every object type of the API schema (the supergraph without its join machinery). */
function apiCoordinates(schema: GraphQLSchema): string[] {
  const out: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type.name.startsWith('join__') || type.name.startsWith('link__')) continue;
    for (const field of Object.keys(type.getFields())) out.push(`${type.name}.${field}`);
  }
  return out;
}

/** The plain Casbin enforcer over the same files, whose lookups scan its own lines (no index). */
async function plainEnforcer(policyDir: string): Promise<Enforcer> {
  const e = await newEnforcer(newModel(readFileSync(path.join(policyDir, 'model.conf'), 'utf8')));
  const widths: Record<string, number> = { p: 3, p2: 7, p3: 8, s: 5, p5: 3 };
  for (const f of readdirSync(policyDir).filter((x) => x.endsWith('.csv')).sort((a, b) => (a === 'rules.csv' ? -1 : b === 'rules.csv' ? 1 : a.localeCompare(b)))) {
    for (const line of readFileSync(path.join(policyDir, f), 'utf8').split('\n')) {
      const cells = line.split(',').map((c) => c.trim());
      const width = widths[cells[0]!];
      if (width === undefined) continue;
      const rest = cells.slice(1);
      await e.addNamedPolicy(cells[0] === 's' ? 'p4' : cells[0]!, ...rest.slice(0, width - 1), rest.slice(width - 1).join(', '));
    }
  }
  const t = (s: string): number => Date.parse(s);
  const grants = await e.getNamedPolicy('p2');
  const agreements = await e.getNamedPolicy('p3');
  const suspensions = await e.getNamedPolicy('p4');
  const reservations = await e.getNamedPolicy('p5');
  const lines = (a: string, d: string) => grants.filter((g) => g[1] === a && g[2] === d);
  await e.addFunction('grants', {
    exist: (a: string, d: string) => lines(a, d).length > 0,
    cover: (a: string, d: string, p: string) => lines(a, d).some((g) => g[3] === p || g[3] === '*'),
    inForce: (a: string, d: string, p: string, now: number) => lines(a, d).some((g) => (g[3] === p || g[3] === '*') && now >= t(g[4]!) && now < t(g[5]!)),
  } as never);
  await e.addFunction('agreements', {
    inForce: (a: string, b: string, d: string, now: number, secret: boolean) =>
      agreements.some((x) => ((x[1] === a && x[2] === b) || (x[1] === b && x[2] === a)) && (x[3] === '*' || x[3] === d) && now >= t(x[4]!) && now < t(x[5]!) && (!secret || x[6] === 'true')),
  } as never);
  await e.addFunction('suspensions', {
    inForce: (a: string, d: string, now: number) => suspensions.some((s) => s[0] === a && (s[1] === '*' || s[1] === d) && now >= t(s[2]!) && now < t(s[3]!)),
  } as never);
  const met = (target: string, agency: string, roles: readonly string[]): boolean => {
    const own = reservations.filter((r) => r[0] === target);
    return own.length === 0 || own.some((r) => roles.includes(r[1]!) && (r[2] === '*' || r[2] === agency));
  };
  await e.addFunction('roles', {
    held: (dataset: string, coordinate: string, agency: string, roles: readonly string[]) => (dataset === '' || met(dataset, agency, roles)) && met(coordinate, agency, roles),
  } as never);
  return e;
}

describe('one decision path for every field × agency × role set × purpose', () => {
  let tmp: string;
  let policyDir: string;
  let policy: SharingPolicy;
  let schema: GraphQLSchema;
  let coordinates: string[];

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'exchange-decision-paths-'));
    policyDir = path.join(tmp, 'policies');
    cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
    writeFileSync(path.join(policyDir, 'differential.csv'), EXTRA);
    policy = await openSharingPolicy({ catalog, policyDir, dataDir: path.join(tmp, 'data'), redisUrl: null, unclassified: 'deny', now: () => NOW });
    schema = buildSchema(supergraph);
    coordinates = apiCoordinates(schema);
  });
  afterAll(async () => {
    await policy.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the gateway\'s decision, mayRead, explain and explainDecision agree with a plain Casbin enforcer over the same lines', async () => {
    const plain = await plainEnforcer(policyDir);
    const auditor: Caller = { sub: 'itd-auditor', agency: 'itd', roles: ['auditor'], purpose: null };
    const consoleAnswers = oversightAnswers(schema, auditor, { location: { dataDir: path.join(tmp, 'data'), redisUrl: null, redisPrefix: '' }, explain: (c, coordinate) => policy.explain(c, coordinate), members: referenceDirectory('445200') });
    const reserved = new Set((await plain.getNamedPolicy('p5')).map((r) => r[0]!));
    const plainAnswers = new Map<string, { effect: string; reason: string }>();
    const reasons = new Set<string>();
    const mismatches: string[] = [];
    let compared = 0;
    for (const coordinate of coordinates) {
      const ds = catalog.byCoordinate.get(coordinate) ?? null;
      const [type, field] = coordinate.split('.') as [string, string];
      const cls = ds?.class ?? (catalog.keyFields.get(type)?.includes(field) === true ? 'KEY' : 'UNCLASSIFIED');
      const obj = { coordinate, id: ds?.id ?? '', provider: ds?.provider ?? '', class: cls, sensitivity: ds?.sensitivity ?? '', unclassified: 'deny' };
      for (const agency of AGENCIES) {
        for (const roles of ROLE_SETS) {
          for (const purpose of PURPOSES) {
            const caller: Caller = { sub: `${agency}-1`, agency, roles, purpose };
            // The plain enforcer's answer depends on the field only through its dataset and its
            // own role reservation: asked once per distinct request.
            const key = `${agency}|${roles.join(',')}|${purpose ?? ''}|${obj.id}|${obj.class}|${reserved.has(coordinate) ? coordinate : ''}`;
            let expected = plainAnswers.get(key);
            if (expected === undefined) {
              const [allowed, rule] = plain.enforceExSync({ agency, purpose: purpose ?? '', roles }, obj, NOW);
              expected = { effect: allowed ? 'ALLOW' : 'DENY', reason: rule[1] ?? 'NOT_SHARED' };
              plainAnswers.set(key, expected);
            }
            const want = `${expected.effect} ${expected.reason}`;
            const decided = policy.decide(caller, coordinate);
            const asked = mayRead(schema, (c, x) => policy.decide(c, x), { ...caller, purpose: null }, { coordinate, purpose });
            const explained = (await policy.explain(caller, coordinate)).decision;
            const got = [`${decided.effect} ${decided.reason}`, `${asked.decision} ${asked.reason}`, `${explained.effect} ${explained.reason}`];
            if (got.some((g) => g !== want)) mismatches.push(`${agency} [${roles.join(',')}] ${purpose ?? '-'} ${coordinate}: casbin ${want}, decide/mayRead/explain ${got.join(' / ')}`);
            reasons.add(decided.reason);
            compared++;
          }
          // The console's explain for one purpose per role set keeps the run short; it calls policy.explain.
          const shown = await consoleAnswers.explainDecision({ agency, coordinate, purpose: PURPOSES[1] ?? null, roles });
          const decided = policy.decide({ sub: 'x', agency, roles, purpose: PURPOSES[1] ?? null }, coordinate);
          if (shown.decision !== decided.effect || shown.reason !== decided.reason) mismatches.push(`explainDecision ${agency} [${roles.join(',')}] ${coordinate}: ${shown.decision} ${shown.reason}, decided ${decided.effect} ${decided.reason}`);
        }
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(compared).toBe(coordinates.length * AGENCIES.length * ROLE_SETS.length * PURPOSES.length);
    expect(plainAnswers.size).toBeGreaterThan(1000);
    for (const r of ['ROLE_REQUIRED', 'SUSPENDED', 'AGREEMENT_REQUIRED', 'GRANT', 'GRANT_EXPIRED', 'NOT_SHARED', 'PROVIDER', 'UNCONDITIONAL', 'KEY_FIELD', 'PURPOSE_REQUIRED', 'PURPOSE_MISMATCH', 'GRANT_REQUIRED']) expect(reasons).toContain(r);
  }, 120_000);

  it.each([
    ['tax', '', 'Query.auditChainStatus', 'DENY ROLE_REQUIRED'],
    ['tax', 'auditor', 'Query.auditChainStatus', 'ALLOW UNCONDITIONAL'],
    ['hrss', 'public-security', 'Person.secretPost', 'DENY AGREEMENT_REQUIRED'],
    ['amr', 'administrative-licensing', 'Person.secretPost', 'ALLOW GRANT'],
    ['tax', 'tax-collection', 'Enterprise.insuredEmployees', 'DENY SUSPENDED'],
  ])('npm run policy -- explain answers as the gateway decides: %s [%s] %s', (agency, extra, coordinate, expected) => {
    const roles = extra === 'auditor' ? ['--roles', 'auditor'] : [];
    const purpose = extra !== '' && extra !== 'auditor' ? ['--purpose', extra] : [];
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/policy.ts', 'explain', '--agency', agency, ...roles, ...purpose, '--at', new Date(NOW).toISOString(), coordinate], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: path.join(tmp, 'cli-data'), POLICY_DIR: policyDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stdout + r.stderr).toContain(`decision: ${expected}`);
    const d = policy.decide({ sub: 'x', agency, roles: extra === 'auditor' ? ['auditor'] : [], purpose: purpose[1] ?? null }, coordinate);
    expect(`${d.effect} ${d.reason}`).toBe(expected);
  });
});

describe('the read over HTTP decides as mayRead answers', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it.each([
    ['tax without role auditor reading Query.auditChainStatus', 'tax', [], null, 'Query.auditChainStatus', '{ auditChainStatus { intact } }', 'ROLE_REQUIRED'],
    ['amr without role policy-maintainer asking Query.explainDecision', 'amr', [], null, 'Query.explainDecision', '{ explainDecision(agency: "tax", coordinate: "Enterprise.name") { decision } }', 'ROLE_REQUIRED'],
    ['a tax coordinator (not of the authority) deciding a complaint', 'tax', ['coordinator'], null, 'Mutation.decideComplaint', 'mutation { decideComplaint(id: "c-1", upheld: true, reasons: "x") { id } }', 'ROLE_REQUIRED'],
    ['hrss reading a STATE_SECRET field with no agreement', 'hrss', [], 'public-security', 'Person.secretPost', '{ person(idNumber: "445202198503151238") { idNumber secretPost { level } } }', 'GRANT_REQUIRED'],
  ])('%s: FORBIDDEN %s', async (_name, agency, roles, purpose, coordinate, read, reason) => {
    const opts = { agency, roles, ...(purpose === null ? {} : { purpose }) };
    const asked = await ex.query('query M($c: String!) { mayRead(coordinate: $c) { decision reason remedy } }', { ...opts, variables: { c: coordinate } });
    expect(asked.body.data).toMatchObject({ mayRead: { decision: 'DENY', reason } });
    const res = await ex.query(read, opts);
    const denial = res.body.errors?.find((e) => (e.extensions?.['sharing'] as { coordinate?: string } | undefined)?.coordinate === coordinate);
    expect(denial?.extensions).toMatchObject({ code: 'FORBIDDEN', sharing: { reason, remedy: (asked.body.data as { mayRead: { remedy: string } }).mayRead.remedy } });
  });
});
