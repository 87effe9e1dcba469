import { readdirSync, readFileSync } from 'node:fs';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { PURPOSE_CODES, ROLES } from '../common/vocabulary.ts';
import { readMembers, type MemberDirectory } from '../ledger/members.ts';
import { readCatalog } from '../gateway/sharing/catalog.ts';
import { readPolicyDir } from '../gateway/sharing/policy-files.ts';
import { openSharingPolicy, type SharingPolicy } from '../gateway/sharing/policy.ts';
import { readPolicyHistory } from '../ledger/policy-history.ts';
import type { Catalog } from '../gateway/sharing/types.ts';
import { otherCommand } from './args.ts';

/** npm run policy -- check | explain | test: the policy maintainers' tools (docs/policies.md). */
const USAGE = `usage:
  npm run policy -- check      load POLICY_DIR into the enforcer; exit 1 with file:line reasons
  npm run policy -- explain --agency A [--roles r1,r2] [--purpose P] [--at ISO-time] Type.field
                               the decision, its reason, and the model and policy lines that made it
  npm run policy -- test       run the expectation tables in POLICY_DIR/tests/ through the enforcer
  npm run policy -- history    the policy revisions on record`;

/** Where `history` reads from: the authority's ledger, once it is attached here. */

/** Whether the supergraph defines Type.field (a field outside every dataset is still a field). */
function knownField(supergraphPath: string, type: string, field: string): boolean {
  const sdl = readFileSync(supergraphPath, 'utf8');
  const def = new RegExp(`(type|interface)\\s+${type}\\b[^{]*\\{([^}]*)\\}`).exec(sdl);
  return def !== null && new RegExp(`^\\s*${field}\\s*[(:]`, 'm').test(def[2]!);
}

function fail(message: string, code = 2): never {
  console.error(`policy: ${message}`);
  process.exit(code);
}

function setup(): { config: Config; catalog: Catalog } {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : (e as Error).message, 1);
  }
  let sdl: string;
  try {
    sdl = readFileSync(config.supergraphPath, 'utf8');
  } catch {
    fail(`cannot read the supergraph at ${path.relative(process.cwd(), config.supergraphPath)} (SUPERGRAPH_PATH)`, 1);
  }
  return { config, catalog: readCatalog(sdl) };
}

async function open(config: Config, catalog: Catalog, members: MemberDirectory, policyDir = config.policyDir): Promise<SharingPolicy> {
  return openSharingPolicy({ catalog, members, policyDir, dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, unclassified: config.unclassifiedFields });
}

/** The exchange's members as the ledger of DATA_DIR / REDIS_URL holds them (the reference members before the first start). */
async function membersOf(config: Config): Promise<MemberDirectory> {
  try {
    return await readMembers(config);
  } catch (e) {
    fail(`cannot read the members from the ledger: ${(e as Error).message}`, 1);
  }
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'check': {
    const { config, catalog } = setup();
    const members = await membersOf(config);
    const files = readPolicyDir(catalog, members, config.policyDir);
    if (files.problems.length > 0) {
      for (const p of files.problems) console.log(p);
      console.log(`${files.problems.length} problem(s); the gateway would refuse this policy and keep the last good one`);
      process.exit(1);
    }
    // The real enforcer over the files (and an empty store): what a gateway would install.
    const scratch = mkdtempSync(path.join(tmpdir(), 'policy-check-'));
    try {
      const policy = await openSharingPolicy({ catalog, members, policyDir: config.policyDir, dataDir: scratch, redisUrl: null, unclassified: config.unclassifiedFields, log: (l) => console.log(l) });
      await policy.close();
    } catch (e) {
      console.log((e as Error).message);
      console.log('the gateway would refuse this policy and keep the last good one');
      process.exit(1);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    const count = (ptype: string): number => new Set(files.rules.filter((r) => r.ptype === ptype).map((r) => r.rule.join(','))).size;
    const ids = (ptype: string): number => new Set(files.rules.filter((r) => r.ptype === ptype).map((r) => r.rule[0])).size;
    console.log(`policy ok: ${count('p')} rule(s), ${ids('p2')} grant(s), ${ids('p3')} agreement(s), ${count('p4')} suspension(s), ${count('p5')} role reservation(s) in ${path.relative(process.cwd(), config.policyDir) || '.'}`);
    break;
  }
  case 'explain': {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, allowPositionals: true, options: { agency: { type: 'string' }, roles: { type: 'string' }, purpose: { type: 'string' }, at: { type: 'string' } } });
    } catch (e) {
      fail(`${(e as Error).message}\n${USAGE}`);
    }
    const { values, positionals } = parsed;
    const coordinate = positionals[0];
    if (values.agency === undefined || coordinate === undefined || !/^\w+\.\w+$/.test(coordinate)) fail(`explain needs --agency and a Type.field coordinate\n${USAGE}`);
    if (values.purpose !== undefined && !PURPOSE_CODES.has(values.purpose)) fail(`unknown purpose "${values.purpose}"; one of ${[...PURPOSE_CODES].join(', ')}`, 1);
    for (const r of (values.roles ?? '').split(',').filter((x) => x !== '')) if (!ROLES.has(r)) fail(`unknown role "${r}"; one of ${[...ROLES].join(', ')}`, 1);
    const at = values.at === undefined ? Date.now() : Date.parse(values.at);
    if (Number.isNaN(at)) fail(`--at must be an ISO time, got "${values.at}"`, 1);
    const { config, catalog } = setup();
    const members = await membersOf(config);
    const agency = members.resolve(values.agency);
    if (agency === null) fail(`unknown agency "${values.agency}": not a member of this exchange; one of ${members.list().map((m) => m.code).join(', ')}`, 1);
    const [type, field] = coordinate.split('.') as [string, string];
    if (!catalog.byCoordinate.has(coordinate) && !catalog.keyFields.get(type)?.includes(field) && !knownField(config.supergraphPath, type, field)) {
      fail(`unknown coordinate "${coordinate}": no such field in the supergraph`, 1);
    }
    const policy = await open(config, catalog, members);
    const roles = values.roles === undefined ? [] : values.roles.split(',').filter((r) => r !== '');
    const { decision, lines } = await policy.explain({ sub: 'explain', agency, roles, purpose: values.purpose ?? null }, coordinate, at);
    await policy.close();
    const ds = decision.dataset;
    console.log(`${coordinate} for ${agency}${values.purpose ? ` (purpose ${values.purpose})` : ''} at ${new Date(at).toISOString()}`);
    console.log(`  decision: ${decision.effect} ${decision.reason}`);
    console.log(`  dataset:  ${ds === null ? '(not catalogued)' : `${ds.id}, provider ${ds.provider}, ${ds.class}${ds.sensitivity ? `, ${ds.sensitivity}` : ''}`}`);
    if (decision.effect === 'DENY') console.log(`  remedy:   ${decision.remedy}`);
    else if (decision.grantId !== null) console.log(`  grant:    ${decision.grantId}`);
    for (const l of lines) console.log(`  line:     ${l}`);
    break;
  }
  case 'test': {
    const { config, catalog } = setup();
    const dir = path.join(config.policyDir, 'tests');
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.csv') && !f.endsWith('.lines.csv')).sort();
    } catch {
      fail(`no expectation files: ${path.relative(process.cwd(), dir)} cannot be read`, 1);
    }
    // Expectations run against the policy files plus tests/*.lines.csv, with an empty grant store.
    const scratch = mkdtempSync(path.join(tmpdir(), 'policy-test-'));
    const policyDir = path.join(scratch, 'policies');
    cpSync(config.policyDir, policyDir, { recursive: true, filter: (src) => !src.startsWith(dir) || src === dir });
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.lines.csv'))) cpSync(path.join(dir, f), path.join(policyDir, `test-${f}`));
    let policy: SharingPolicy;
    try {
      policy = await openSharingPolicy({ catalog, members: await membersOf(config), policyDir, dataDir: path.join(scratch, 'data'), redisUrl: null, unclassified: config.unclassifiedFields });
    } catch (e) {
      rmSync(scratch, { recursive: true, force: true });
      fail((e as Error).message.replaceAll(`${path.basename(policyDir)}/test-`, 'policies/tests/'), 1);
    }
    let passed = 0;
    const failures: string[] = [];
    for (const f of files) {
      const lines = readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i]!.trim();
        if (raw === '' || raw.startsWith('#') || raw.startsWith('agency,')) continue;
        const [agency, roles, purpose, coordinate, effect, reason, at] = raw.split(',').map((c) => c.trim());
        const where = `${path.relative(process.cwd(), path.join(dir, f))}:${i + 1}`;
        if (!agency || !coordinate || !effect || !reason) {
          failures.push(`${where}: a row needs agency, roles, purpose, coordinate, decision, reason[, at]`);
          continue;
        }
        const when = at ? Date.parse(at) : Date.now();
        const d = policy.evaluate({ sub: 'test', agency, roles: roles ? roles.split(' ') : [], purpose: purpose || null }, coordinate, when);
        if (d.effect === effect && d.reason === reason) passed++;
        else failures.push(`${where}: ${agency} ${purpose || '-'} ${coordinate}: expected ${effect} ${reason}, got ${d.effect} ${d.reason}`);
      }
    }
    await policy.close();
    rmSync(scratch, { recursive: true, force: true });
    for (const fl of failures) console.log(fl);
    console.log(`${passed} passed, ${failures.length} failed`);
    process.exit(failures.length > 0 ? 1 : 0);
  }
  case 'history': {
    const c = setup().config;
    const records = await readPolicyHistory(c);
    if (records.length === 0) console.log('no policy revisions on record');
    for (const r of records) {
      console.log(`${r.at}  ${r.hash.slice(0, 12)}  ${r.instance} from ${r.origin}  +${r.added.length} -${r.removed.length}  (ledger seq ${r.seq})`);
      for (const l of r.added) console.log(`  + ${l}`);
      for (const l of r.removed) console.log(`  - ${l}`);
    }
    break;
  }
  case undefined:
  default:
    otherCommand(command, USAGE, fail);
}
