import { readdirSync, readFileSync } from 'node:fs';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { PURPOSE_CODES } from '../common/vocabulary.ts';
import { readCatalog } from '../gateway/sharing/catalog.ts';
import { readPolicyDir } from '../gateway/sharing/policy-files.ts';
import { openSharingPolicy, type SharingPolicy } from '../gateway/sharing/policy.ts';
import type { Catalog } from '../gateway/sharing/types.ts';

/** npm run policy -- check | explain | test: the policy maintainers' tools (CONTRACT §4). */
const USAGE = `usage:
  npm run policy -- check
  npm run policy -- explain --agency A [--roles r1,r2] [--purpose P] [--at ISO-time] Type.field
  npm run policy -- test`;

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

async function open(config: Config, catalog: Catalog, policyDir = config.policyDir): Promise<SharingPolicy> {
  return openSharingPolicy({ catalog, policyDir, dataDir: config.dataDir, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, unclassified: config.unclassifiedFields });
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'check': {
    const { config, catalog } = setup();
    const files = readPolicyDir(catalog, config.policyDir);
    if (files.problems.length > 0) {
      for (const p of files.problems) console.log(p);
      console.log(`${files.problems.length} problem(s); the gateway would refuse this policy and keep the last good one`);
      process.exit(1);
    }
    const grants = new Set(files.rules.filter((r) => r.ptype === 'p').map((r) => r.rule[0])).size;
    const agreements = new Set(files.rules.filter((r) => r.ptype === 'p2').map((r) => r.rule[0])).size;
    console.log(`policy ok: ${grants} grant(s), ${agreements} agreement(s) in ${path.relative(process.cwd(), config.policyDir) || '.'}`);
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
    if (values.purpose !== undefined && !PURPOSE_CODES.has(values.purpose)) fail(`unknown purpose "${values.purpose}"; one of ${[...PURPOSE_CODES].join(', ')}`);
    const at = values.at === undefined ? Date.now() : Date.parse(values.at);
    if (Number.isNaN(at)) fail(`--at must be an ISO time, got "${values.at}"`);
    const { config, catalog } = setup();
    const policy = await open(config, catalog);
    const roles = values.roles === undefined ? [] : values.roles.split(',').filter((r) => r !== '');
    const { decision, lines } = await policy.explain({ sub: 'explain', agency: values.agency, roles, purpose: values.purpose ?? null }, coordinate, at);
    await policy.close();
    const ds = decision.dataset;
    console.log(`${coordinate} for ${values.agency}${values.purpose ? ` (purpose ${values.purpose})` : ''} at ${new Date(at).toISOString()}`);
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
      policy = await openSharingPolicy({ catalog, policyDir, dataDir: path.join(scratch, 'data'), redisUrl: null, unclassified: config.unclassifiedFields });
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
        const d = policy.decide({ sub: 'test', agency, roles: roles ? roles.split(' ') : [], purpose: purpose || null }, coordinate, when);
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
  case undefined:
  default:
    fail(USAGE);
}
