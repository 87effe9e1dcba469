import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { bearerVerifier } from '../gateway/identity/jwt.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { openLedger, type Ledger } from '../ledger/ledger.ts';
import { followUsage } from '../subgraphs/exchange/oversight/usage-follower.ts';
import { archiveReads, logReads } from '../subgraphs/exchange/registry/reads.ts';
import { openRegistryService } from '../subgraphs/exchange/registry/resolvers.ts';
import { registryMembersOf } from '../subgraphs/exchange/registry/members.ts';
import { readMembers } from '../ledger/members.ts';
import type { CheckReport } from '../subgraphs/exchange/registry/report.ts';
import type { Caller, RegistryService } from '../subgraphs/exchange/registry/service.ts';
import { commandArgs, type Options, otherCommand } from './args.ts';
import { exitQuietlyOnClosedPipe } from './pipe.ts';

/** npm run registry -- check | propose | approve | refuse | list | rollback: the registry on the ledger (docs/registry.md). */
const PROPOSAL_OPTIONS = `--subgraph NAME --url URL --schema FILE.graphql [--catalog DATASETS.json] [--note TEXT] --token JWT`;
const HELP: Readonly<Record<string, string>> = {
  check: `npm run registry -- check ${PROPOSAL_OPTIONS}
  Checks a version of your member's subgraph against the supergraph version served now and prints
  the report; records nothing. Exit 0 when approvable, 1 when not.`,
  propose: `npm run registry -- propose ${PROPOSAL_OPTIONS}
  Records the proposal with its check for the authority to decide, and prints the report and, on
  its last line, the proposal's id.`,
  approve: `npm run registry -- approve <proposal id> --reasons TEXT --token JWT
  A coordinator of itd approves: the proposal is checked again on the current version, then
  published as the next supergraph version.`,
  refuse: `npm run registry -- refuse <proposal id> --reasons TEXT --token JWT
  A coordinator of itd refuses the proposal, saying why.`,
  list: `npm run registry -- list
  Prints the published supergraph versions (the current one marked) and the pending proposals.`,
  rollback: `npm run registry -- rollback <version> --reasons TEXT --token JWT
  A coordinator of itd publishes an earlier version's content again, as the next version.`,
};
const USAGE = `usage:\n${Object.values(HELP).map((h) => `  ${h.split('\n')[0]}`).join('\n')}\nnpm run registry -- <command> --help for details`;

function fail(message: string, code = 2): never {
  console.error(`registry: ${message}`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : (e as Error).message, 1);
  }
}

/** The caller --token names: a valid token of the configured issuer (the service decides what it may do). */
async function callerOf(c: Config, token: string | undefined, command: string): Promise<Caller> {
  if (token === undefined || token.trim() === '') fail(`${command} needs --token JWT (the member's or coordinator's token)\n${HELP[command]}`);
  // The token's agency must be a member in good standing, as the gateway would check it now.
  const members = await readMembers(c);
  const auth = bearerVerifier(verificationKey(c), { issuer: c.jwtIssuer, audience: c.jwtAudience, maxLifetimeSeconds: c.jwtMaxTtlSeconds, members })(`Bearer ${token.trim()}`);
  if (!auth.ok) fail(`--token refused: ${auth.why.startsWith('Authorization header') ? 'not a JWT' : auth.why}`, 1);
  return { sub: auth.principal.sub, agency: auth.principal.agency, roles: auth.principal.roles };
}

function text(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function required(a: Record<string, string | boolean | undefined>, name: string, command: string): string {
  const v = text(a[name]);
  if (v === undefined || v.trim() === '') fail(`${command} needs --${name}\n${HELP[command]}`);
  return v;
}

function fileText(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read --${option} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function section(title: string, lines: readonly string[]): void {
  console.log(`${title} (${lines.length}):${lines.length === 0 ? ' none' : ''}`);
  for (const l of lines) console.log(`  - ${l}`);
}

function printReport(r: CheckReport): void {
  console.log(`approvable: ${r.approvable ? 'yes' : 'NO'}`);
  section('composition errors', r.compositionErrors);
  section('fields without a dataset', r.undeclaredFields);
  section('one data, one source (R-8)', r.sources.map((s) => `${s.item} (${s.members.join(', ')}): ${s.message}`));
  section('class and sensitivity guardrails (R-4)', r.guardrails);
  section(
    'breaking changes',
    r.breakingChanges.map((b) => `${b.coordinate} ${b.change}: ${b.message}; grants: ${b.grants.join(', ') || 'none'}; readers: ${b.readers.map((x) => `${x.agency} ${x.reads}`).join(', ') || 'none'}`),
  );
  section('catalog changes', r.catalogDiff.map((c) => `${c.dataset} ${c.field}: ${c.before ?? '(none)'} → ${c.after ?? '(none)'}`));
  console.log(`readers counted from: ${r.readsFrom}`);
}

/** A refusal of the registry (FORBIDDEN, BAD_USER_INPUT): its message, exit 1; anything else is thrown as it is. */
async function refusedAs<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof GraphQLError) fail(`refused (${String(e.extensions['code'])}): ${e.message}`, 1);
    throw e;
  }
}

exitQuietlyOnClosedPipe();
const [command, ...rest] = process.argv.slice(2);
if (command === undefined || !Object.hasOwn(HELP, command)) {
  otherCommand(command, USAGE, fail);
  process.exit(0);
}
const proposalOptions: Options = { subgraph: { type: 'string' }, url: { type: 'string' }, schema: { type: 'string' }, catalog: { type: 'string' }, note: { type: 'string' }, token: { type: 'string' } };
const decisionOptions: Options = { reasons: { type: 'string' }, token: { type: 'string' } };
const options: Options = command === 'check' || command === 'propose' ? proposalOptions : command === 'list' ? {} : decisionOptions;
// approve, refuse and rollback name what they act on first: the proposal id or the version.
const takesPositional = command === 'approve' || command === 'refuse' || command === 'rollback';
const positional = takesPositional && rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
const a = commandArgs(positional === undefined ? rest : rest.slice(1), options, HELP[command]!, (m) => fail(m));

async function withService(c: Config, work: (service: RegistryService) => Promise<void>): Promise<void> {
  let ledger: Ledger;
  try {
    ledger = await openLedger({ dataDir: c.dataDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix, logSigningKey: c.logSigningKey, witnessUrls: c.witnessUrls });
  } catch (e) {
    fail(`cannot open the ledger: ${(e as Error).message}`, 1);
  }
  // Readers of what a proposal would break: the archive's counts with ARCHIVE_URL, else the access log read through once.
  const follower = c.archiveUrl === null ? followUsage(c, (l) => process.stderr.write(`registry: ${l}\n`)) : null;
  const reads = follower === null ? archiveReads(c.archiveUrl!) : logReads(follower);
  // The members as the ledger holds them (the reference members before the exchange's first start).
  const registry = await openRegistryService({ ledger, supergraphPath: c.supergraphPath, seed: false, reads, members: registryMembersOf(await readMembers(c)), policyDir: c.policyDir });
  try {
    await work(registry.service);
  } finally {
    registry.close();
    await reads.close();
    await follower?.close();
    await ledger.close();
  }
}

switch (command) {
  case 'check':
  case 'propose': {
    const input = {
      subgraph: required(a, 'subgraph', command),
      url: required(a, 'url', command),
      sdl: fileText('schema', required(a, 'schema', command)),
      catalog: text(a['catalog']) === undefined ? null : fileText('catalog', text(a['catalog'])!),
      note: text(a['note']) ?? null,
    };
    const c = config();
    const caller = await callerOf(c, text(a['token']), command);
    let approvable = true;
    await withService(c, async (service) => {
      if (command === 'check') {
        const report = await refusedAs(() => service.check(input, caller));
        printReport(report);
        approvable = report.approvable;
      } else {
        const p = await refusedAs(() => service.propose(input, caller));
        printReport(p.report);
        console.log(`proposed: subgraph ${p.subgraph} of ${p.member}, pending the authority's decision`);
        console.log(p.id);
      }
    });
    process.exit(approvable ? 0 : 1);
    break;
  }
  case 'approve':
  case 'refuse': {
    if (positional === undefined) fail(`${command} needs the proposal id\n${HELP[command]}`);
    const reasons = required(a, 'reasons', command);
    const c = config();
    const caller = await callerOf(c, text(a['token']), command);
    await withService(c, async (service) => {
      if (command === 'approve') {
        const v = await refusedAs(() => service.approve(positional, reasons, caller));
        console.log(`approved ${positional}: published supergraph version ${v.version} (sha256 ${v.hash})`);
      } else {
        const p = await refusedAs(() => service.refuse(positional, reasons, caller));
        console.log(`refused ${p.id} (subgraph ${p.subgraph} of ${p.member}): ${p.reasons ?? ''}`);
      }
    });
    break;
  }
  case 'rollback': {
    if (positional === undefined || !/^[1-9]\d*$/.test(positional)) fail(`rollback needs the version to republish, a positive whole number${positional === undefined ? '' : `, got "${positional}"`}\n${HELP['rollback']}`);
    const reasons = required(a, 'reasons', command);
    const c = config();
    const caller = await callerOf(c, text(a['token']), command);
    await withService(c, async (service) => {
      const v = await refusedAs(() => service.rollback(Number(positional), reasons, caller));
      console.log(`rolled back: version ${v.version} republishes version ${v.rollbackOf ?? '?'} (sha256 ${v.hash})`);
    });
    break;
  }
  case 'list': {
    const c = config();
    await withService(c, async (service) => {
      const versions = await service.versions();
      console.log(`supergraph versions (${versions.length}):${versions.length === 0 ? ' none published yet' : ''}`);
      for (const v of versions) {
        const what = v.proposal !== null ? `proposal ${v.proposal}` : v.rollbackOf !== null ? `rollback of version ${v.rollbackOf}` : 'first version';
        console.log(`  ${v.current ? '*' : ' '} ${String(v.version).padStart(3)}  ${v.hash.slice(0, 12)}  ${v.publishedAt}  ${v.publishedBy ?? '-'}  ${what}: ${v.reasons}`);
      }
      const pending = await service.proposals('PENDING', { sub: 'operator', agency: 'itd', roles: [] });
      console.log(`pending proposals (${pending.length}):${pending.length === 0 ? ' none' : ''}`);
      for (const p of pending) console.log(`    ${p.id}  subgraph ${p.subgraph} of ${p.member}  ${p.proposedAt}  ${p.report.approvable ? 'approvable' : 'not approvable'}${p.note === '' ? '' : `: ${p.note}`}`);
    });
    break;
  }
}
