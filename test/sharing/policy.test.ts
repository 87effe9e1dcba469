import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newEnforcer, newModel } from 'casbin';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { openSharingPolicy, type SharingPolicy } from '../../gateway/sharing/policy.ts';
import type { Caller } from '../../gateway/sharing/types.ts';
import { ROOT } from '../helpers/root.ts';
import { until } from '../helpers/wait.ts';

const catalog = readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'));
const caller = (agency: string, purpose: string | null = null): Caller => ({ sub: `${agency}-1`, agency, roles: [], purpose });
const NOW = Date.parse('2026-06-01T00:00:00Z');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DEPLOYMENT_LOG_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function openPolicy(extra: { redisUrl?: string; redisPrefix?: string; dataDir?: string; policyDir?: string } = {}): Promise<{ policy: SharingPolicy; policyDir: string; dataDir: string; logs: string[] }> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-'));
  const policyDir = extra.policyDir ?? path.join(tmp, 'policies');
  if (extra.policyDir === undefined) cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
  const dataDir = extra.dataDir ?? path.join(tmp, 'data');
  const logs: string[] = [];
  // Instances of one deployment share one log key (LOG_SIGNING_KEY): each folder of its own would
  // otherwise get a development key of its own, and no instance would apply another's grants.
  const policy = await openSharingPolicy({ catalog, policyDir, dataDir, redisUrl: extra.redisUrl ?? null, logSigningKey: DEPLOYMENT_LOG_KEY, ...(extra.redisPrefix ? { redisPrefix: extra.redisPrefix } : {}), unclassified: 'deny', log: (l) => logs.push(l) });
  cleanups.push(async () => {
    await policy.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  return { policy, policyDir, dataDir, logs };
}

describe('sharing policy decisions', () => {
  it.each([
    ['amr', null, 'Enterprise.name', 'ALLOW', 'PROVIDER'],
    ['tax', null, 'Enterprise.name', 'ALLOW', 'UNCONDITIONAL'],
    ['tax', null, 'Enterprise.uscc', 'ALLOW', 'KEY_FIELD'],
    ['amr', 'market-supervision', 'Enterprise.annualTaxPaid', 'DENY', 'NOT_SHARED'],
    ['amr', null, 'Enterprise.unknownField', 'DENY', 'NOT_CATALOGUED'],
    ['amr', null, 'Enterprise.taxCreditGrade', 'DENY', 'PURPOSE_REQUIRED'],
    ['eeb', 'environmental-enforcement', 'Enterprise.taxCreditGrade', 'DENY', 'GRANT_REQUIRED'],
    ['amr', 'statistics', 'Enterprise.taxCreditGrade', 'DENY', 'PURPOSE_MISMATCH'],
    ['amr', 'market-supervision', 'Enterprise.taxCreditGrade', 'ALLOW', 'GRANT'],
    ['hrss', 'social-insurance-administration', 'Person.name', 'ALLOW', 'GRANT'],
  ])('%s for %s reading %s: %s %s', async (agency, purpose, coordinate, effect, reason) => {
    const { policy } = await openPolicy();
    const d = policy.decide(caller(agency, purpose), coordinate, NOW);
    expect({ effect: d.effect, reason: d.reason }).toEqual({ effect, reason });
  });

  it('denies a grant outside its validity with GRANT_EXPIRED, and allows it inside', async () => {
    const { policy } = await openPolicy();
    expect(policy.decide(caller('amr', 'market-supervision'), 'Enterprise.taxCreditGrade', Date.parse('2028-02-01T00:00:00Z')).reason).toBe('GRANT_EXPIRED');
    expect(policy.decide(caller('amr', 'market-supervision'), 'Enterprise.taxCreditGrade', Date.parse('2027-12-31T00:00:00Z')).reason).toBe('GRANT');
  });

  it('no grant line can open a NOT_SHARED dataset: a policy file naming one is refused at start', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    cpSync(path.join(ROOT, 'policies'), tmp, { recursive: true });
    writeFileSync(path.join(tmp, 'extra.csv'), 'p2, g-bad, amr, tax.tax-payments, market-supervision, 2026-01-01, 2028-01-01, test\n');
    await expect(openSharingPolicy({ catalog, policyDir: tmp, dataDir: path.join(tmp, 'data'), redisUrl: null, unclassified: 'deny' })).rejects.toThrow(
      /extra\.csv:1: dataset tax\.tax-payments is NOT_SHARED: no grant can open it to amr \(R-4\)/,
    );
  });

  it('ends a grant when the injected clock passes its end: reading the version changes nothing, versionAt moves it', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-'));
    cpSync(path.join(ROOT, 'policies'), path.join(tmp, 'policies'), { recursive: true });
    let t = NOW;
    const policy = await openSharingPolicy({ catalog, policyDir: path.join(tmp, 'policies'), dataDir: path.join(tmp, 'data'), redisUrl: null, unclassified: 'deny', now: () => t });
    cleanups.push(async () => {
      await policy.close();
      rmSync(tmp, { recursive: true, force: true });
    });
    const eeb = caller('eeb', 'statistics');
    await policy.store.apply({ op: 'grant', grant: { id: 'g-clock', consumer: 'eeb', dataset: 'hrss.enterprise-insurance', purposes: ['statistics'], validFrom: '2026-01-01', validUntil: new Date(NOW + 60_000).toISOString() } });
    await until(() => policy.decide(eeb, 'Enterprise.insuredEmployees').reason === 'GRANT');
    const v = policy.version;
    t = NOW + 60_000;
    expect(policy.version).toBe(v);
    expect(policy.versionAt(t)).toBeGreaterThan(v);
    expect(policy.decide(eeb, 'Enterprise.insuredEmployees').reason).toBe('GRANT_EXPIRED');
  });

  it('applies a grant added to the authority\u2019s store at once, and its revocation', async () => {
    const { policy } = await openPolicy();
    const eeb = caller('eeb', 'statistics');
    const v0 = policy.version;
    expect(policy.decide(eeb, 'Enterprise.insuredEmployees').reason).toBe('GRANT_REQUIRED');
    await policy.store.apply({ op: 'grant', grant: { id: 'g-t1', consumer: 'eeb', dataset: 'hrss.enterprise-insurance', purposes: ['statistics'], validFrom: '2026-01-01', validUntil: '2030-01-01' } });
    await until(() => policy.decide(eeb, 'Enterprise.insuredEmployees').reason === 'GRANT');
    expect(policy.version).toBeGreaterThan(v0);
    expect(policy.decide(eeb, 'Enterprise.insuredEmployees')).toMatchObject({ effect: 'ALLOW', grantId: 'g-t1' });
    await policy.store.apply({ op: 'revoke-grant', id: 'g-t1', reason: 'test' });
    await until(() => policy.decide(eeb, 'Enterprise.insuredEmployees').reason === 'GRANT_REQUIRED');
  });

  it('denies sensitive conditional data with AGREEMENT_REQUIRED once the agreement is removed', async () => {
    const { policy, policyDir } = await openPolicy();
    const amr = caller('amr', 'market-supervision');
    expect(policy.decide(amr, 'Enterprise.taxCreditGrade').reason).toBe('GRANT');
    writeFileSync(path.join(policyDir, 'agreements.csv'), '# no agreements\n');
    await until(() => policy.decide(amr, 'Enterprise.taxCreditGrade').reason === 'AGREEMENT_REQUIRED');
  });

  it('takes an edited policy file without restart', async () => {
    const { policy, policyDir } = await openPolicy();
    const civil = caller('civil', 'statistics');
    expect(policy.decide(civil, 'Enterprise.insuredEmployees').reason).toBe('GRANT_REQUIRED');
    writeFileSync(path.join(policyDir, 'civil.csv'), 'p2, g-civil-1, civil, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, test basis\n');
    await until(() => policy.decide(civil, 'Enterprise.insuredEmployees').reason === 'GRANT', 'the edited policy file to be taken');
  });

  it('refuses a broken policy file, keeps the last good policy and logs file:line', async () => {
    const { policy, policyDir, logs } = await openPolicy();
    const amr = caller('amr', 'market-supervision');
    writeFileSync(path.join(policyDir, 'grants.csv'), 'p2, g-x, amr, tax.credit-rating\n');
    await until(() => logs.some((l) => l.includes('grants.csv:1')));
    expect(logs.find((l) => l.includes('grants.csv:1'))).toMatch(/refused, keeping the last good policy: policies\/grants\.csv:1: a grant line has 8 fields/);
    expect(policy.decide(amr, 'Enterprise.taxCreditGrade').reason).toBe('GRANT');
  });

  it('refuses a reloaded file that would open a NOT_SHARED dataset and keeps the last good policy', async () => {
    const { policy, policyDir, logs } = await openPolicy();
    writeFileSync(path.join(policyDir, 'sneaky.csv'), '# opens criminal records\np2, g-s, hrss, psb.criminal-records, social-insurance-administration, 2026-01-01, 2030-01-01, test\n');
    await until(() => logs.some((l) => l.includes('sneaky.csv:2')));
    expect(logs.join('\n')).toMatch(/sneaky\.csv:2: dataset psb\.criminal-records is NOT_SHARED/);
    expect(policy.decide(caller('hrss', 'social-insurance-administration'), 'Person.criminalRecord').reason).toBe('NOT_SHARED');
  });

  it('decides exactly as a plain Casbin enforcer over model.conf and every line, with lookups that scan the lines, suspensions and role reservations included (differential)', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-'));
    const dir = path.join(tmp, 'policies');
    cpSync(path.join(ROOT, 'policies'), dir, { recursive: true });
    // Real suspension lines: one dataset in 2026, every dataset of an agency in 2028.
    writeFileSync(path.join(dir, 'suspensions.csv'), 's, hrss, psb.population-basic, 2026-05-01, 2026-07-01, audit finding F-1\ns, amr, *, 2028-05-01, 2028-07-01, audit finding F-2\n');
    const { policy, policyDir } = await openPolicy({ policyDir: dir });
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const e = await newEnforcer(newModel(readFileSync(path.join(policyDir, 'model.conf'), 'utf8')));
    const widths: Record<string, number> = { p: 3, p2: 7, p3: 8, s: 5, p5: 3 };
    for (const f of ['rules.csv', 'grants.csv', 'agreements.csv', 'suspensions.csv', 'roles.csv']) {
      for (const line of readFileSync(path.join(policyDir, f), 'utf8').split('\n')) {
        const cells = line.split(',').map((c) => c.trim());
        const width = widths[cells[0]!];
        if (width === undefined) continue;
        const rest = cells.slice(1);
        await e.addNamedPolicy(cells[0] === 's' ? 'p4' : cells[0]!, ...rest.slice(0, width - 1), rest.slice(width - 1).join(', '));
      }
    }
    // The lookups as a scan of the enforcer's own lines: no index.
    const scan = async (ptype: string) => e.getNamedPolicy(ptype);
    const grants = await scan('p2');
    const agreements = await scan('p3');
    const suspensions = await scan('p4');
    const reservations = await scan('p5');
    expect(suspensions).toHaveLength(2);
    const t = (s: string) => Date.parse(s);
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
      inForce: (a: string, d: string, now: number) => suspensions.some((x) => x[0] === a && (x[1] === '*' || x[1] === d) && now >= t(x[2]!) && now < t(x[3]!)),
    } as never);
    const met = (target: string, agency: string, roles: readonly string[]) => {
      const own = reservations.filter((r) => r[0] === target);
      return own.length === 0 || own.some((r) => roles.includes(r[1]!) && (r[2] === '*' || r[2] === agency));
    };
    await e.addFunction('roles', {
      held: (d: string, c: string, a: string, roles: readonly string[]) => (d === '' || met(d, a, roles)) && met(c, a, roles),
    } as never);
    const agencies = ['amr', 'tax', 'hrss', 'eeb', 'psb', 'civil', 'itd'];
    const purposes = ['', 'tax-collection', 'market-supervision', 'social-insurance-administration', 'statistics'];
    const roleSets = [[], ['auditor'], ['coordinator']];
    const times = ['2025-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2028-06-01T00:00:00.000Z'];
    const reasons = new Set<string>();
    let compared = 0;
    for (const [coordinate, ds] of catalog.byCoordinate) {
      for (const agency of agencies) {
        for (const purpose of purposes) {
          for (const roles of roleSets) {
            for (const at of times) {
              const obj = { coordinate, id: ds.id, provider: ds.provider, class: ds.class, sensitivity: ds.sensitivity ?? '', unclassified: 'deny' };
              const [allowed, rule] = e.enforceExSync({ agency, purpose, roles }, obj, Date.parse(at));
              const d = policy.decide({ ...caller(agency, purpose || null), roles }, coordinate, Date.parse(at));
              if (d.reason !== rule[1] || d.effect !== (allowed ? 'ALLOW' : 'DENY')) {
                expect({ effect: d.effect, reason: d.reason }, `${agency} [${roles.join(',')}] ${purpose} ${coordinate} ${at}`).toEqual({ effect: allowed ? 'ALLOW' : 'DENY', reason: rule[1] });
              }
              reasons.add(d.reason);
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(reasons).toContain('SUSPENDED');
    expect(reasons).toContain('ROLE_REQUIRED');
  }, 120_000);
});

describe('two gateway policies over one Redis', () => {
  const redisUrl = 'redis://127.0.0.1:6379';
  const admin = new Redis(redisUrl);
  afterAll(() => admin.disconnect());
  /** A key prefix of this test's own, deleted after it. */
  const redisPrefix = (): string => {
    const prefix = `test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    cleanups.push(async () => {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    });
    return prefix;
  };

  it('a grant added through one instance takes effect in the other', async () => {
    const prefix = redisPrefix();
    const a = await openPolicy({ redisUrl, redisPrefix: prefix });
    const b = await openPolicy({ redisUrl, redisPrefix: prefix });
    const civil = caller('civil', 'civil-affairs');
    expect(b.policy.decide(civil, 'Person.pensionInsurance').reason).toBe('GRANT_REQUIRED');
    const started = performance.now();
    await a.policy.store.apply({ op: 'grant', grant: { id: 'g-r1', consumer: 'civil', dataset: 'hrss.pension-insurance', purposes: ['civil-affairs'], validFrom: '2026-01-01', validUntil: '2030-01-01' } });
    await until(() => b.policy.decide(civil, 'Person.pensionInsurance').reason !== 'GRANT_REQUIRED');
    console.log(`grant propagation across instances over Redis: ${(performance.now() - started).toFixed(1)} ms`);
    // Personal data: the grant alone is not enough without an agreement.
    expect(b.policy.decide(civil, 'Person.pensionInsurance').reason).toBe('AGREEMENT_REQUIRED');
    await a.policy.store.apply({ op: 'agreement', agreement: { id: 'a-r1', parties: ['civil', 'hrss'], datasets: ['hrss.pension-insurance'], signedOn: '2026-01-01', validUntil: '2030-01-01', documentRef: 'test', filedWithSecrecyBureau: false } });
    await until(() => b.policy.decide(civil, 'Person.pensionInsurance').reason === 'GRANT');
  });

  it('an instance whose Redis subscription dropped still applies the revocation published meanwhile', async () => {
    const prefix = redisPrefix();
    const a = await openPolicy({ redisUrl, redisPrefix: prefix });
    const b = await openPolicy({ redisUrl, redisPrefix: prefix });
    const tax = caller('tax', 'statistics');
    await a.policy.store.apply({ op: 'grant', grant: { id: 'g-d1', consumer: 'tax', dataset: 'eeb.enterprise-emissions', purposes: ['statistics'], validFrom: '2026-01-01', validUntil: '2030-01-01' } });
    await until(() => b.policy.decide(tax, 'Enterprise.emissions').reason === 'GRANT');

    // Cut both followers' subscriptions (only this test's, by connection name), and revoke while they are down.
    const clients = (await admin.client('LIST')) as string;
    const ids = clients.split('\n').filter((l) => l.includes(`name=${prefix}ledger-follower`)).map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(ids).toHaveLength(2);
    for (const id of ids) await admin.client('KILL', 'ID', id);
    await a.policy.store.apply({ op: 'revoke-grant', id: 'g-d1', reason: 'test' });
    await until(() => b.policy.decide(tax, 'Enterprise.emissions').reason === 'GRANT_REQUIRED');
  });

  it('a policy file changed on one instance is applied by the others, a broken one by none, and a restart with older files runs the shared revision', async () => {
    const prefix = redisPrefix();
    // Each instance has its own copy of policies/, as on separate hosts.
    const a = await openPolicy({ redisUrl, redisPrefix: prefix });
    const b = await openPolicy({ redisUrl, redisPrefix: prefix });
    const civil = caller('civil', 'statistics');
    expect(b.policy.decide(civil, 'Enterprise.insuredEmployees').reason).toBe('GRANT_REQUIRED');

    const started = performance.now();
    writeFileSync(path.join(a.policyDir, 'civil.csv'), 'p2, g-civil-1, civil, hrss.enterprise-insurance, statistics, 2026-01-01, 2030-01-01, test basis\n');
    await until(() => b.policy.decide(civil, 'Enterprise.insuredEmployees').reason === 'GRANT', 'instance B to install the change');
    console.log(`policy file change on instance A applied by instance B over Redis: ${(performance.now() - started).toFixed(1)} ms`);
    expect(b.logs.join('\n')).toMatch(/policy revision [0-9a-f]{8} published by .* installed/);

    writeFileSync(path.join(a.policyDir, 'civil.csv'), 'p2, g-civil-1, civil\n');
    await until(() => a.logs.some((l) => l.includes('civil.csv:1')));
    // Instances share a policy only through the published revision: it still holds the good file.
    expect((await a.policy.store.snapshot()).policy?.texts['civil.csv']).toContain('hrss.enterprise-insurance, statistics');
    expect(b.policy.decide(civil, 'Enterprise.insuredEmployees').reason).toBe('GRANT');

    // A third instance starting from files older than the shared revision runs the revision.
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-policy-old-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    cpSync(path.join(ROOT, 'policies'), tmp, { recursive: true });
    const old = new Date('2026-01-01T00:00:00Z');
    for (const f of readdirSync(tmp)) utimesSync(path.join(tmp, f), old, old);
    const c = await openPolicy({ redisUrl, redisPrefix: prefix, policyDir: tmp });
    expect(c.policy.decide(civil, 'Enterprise.insuredEmployees').reason).toBe('GRANT');
    expect(c.logs.join('\n')).toMatch(/running revision [0-9a-f]{8} published by .*, newer than/);
  });
});
