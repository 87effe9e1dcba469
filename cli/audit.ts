import { readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { auditorScope } from '../common/auditor-scope.ts';
import { buildBundle, bundleProblem, type Bundle } from '../gateway/audit/bundle.ts';
import type { AuditRecord } from '../gateway/audit/record.ts';
import type { AuditFilter } from '../common/access-record.ts';
import { archiveAuditReader, auditLogReader, pageAuditRecords, readAuditRecords, sealCheckOf, unprovenLine } from '../ledger/audit-reader.ts';
import { matches } from '../ledger/audit-filter.ts';
import { verifyAuditLog, type Verification } from '../gateway/audit/verify.ts';
import { LEDGER_CHAIN, LEDGER_LOG, openLedger, verifyLedger } from '../ledger/ledger.ts';
import { logKey } from '../ledger/log/log-key.ts';
import { appendAdoption, legacyChains, LegacyRefusedError, type LegacyChain } from '../ledger/log/seal-legacy.ts';
import { auditBody } from '../gateway/audit/record.ts';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { bearerVerifier } from '../gateway/identity/jwt.ts';
import { readMembers } from '../ledger/members.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { exitQuietlyOnClosedPipe } from './pipe.ts';
import { commandArgs, type Options, otherCommand } from './args.ts';

/** npm run audit -- query | verify | export: the auditors' tools (docs/audit.md). */
const HELP: Readonly<Record<string, string>> = {
  query: `npm run audit -- query [--agency A] [--dataset D] [--entity KEY] [--coordinate C] [--since T] [--until T] [--decision ALLOW|DENY] [--limit N] [--json] [--token JWT]
  Prints matching access records, oldest first: a table, or one JSON object a line with --json.
  --token JWT  read as that auditor: an itd auditor reads every record, another agency's auditor
               only records where the agency is the consumer or the provider. Without a token the
               command runs with the operator's access to the whole log.`,
  verify: `npm run audit -- verify [--bundle FILE]
  Checks every hash chain of the access log and the ledger: links, the log key's signature on
  every group commit (LOG_SIGNING_KEY), checkpoints, and the heads and chains the off-host
  witnesses countersigned (WITNESS_URLS), or an exported bundle and its signatures.
  Exit 0 when intact, 1 naming the first bad or forged record (chain, seq).`,
  'seal-legacy': `npm run audit -- seal-legacy --by NAME
  For a DATA_DIR (or Redis) written before log records were sealed: checks each chain that holds
  no seal against its local witness (links intact, every checkpoint matching), then seals it as it
  stands with the log key (LOG_SIGNING_KEY) and records in the ledger who ran it and the heads
  adopted. Run it with the exchange stopped, once, before the first start of this version.
  Refuses (exit 1) when a chain does not verify; then nothing is sealed.`,
  export: `npm run audit -- export --out FILE [--since T] [--until T] [--token JWT]
  Writes a signed bundle of the records in [since, until] that verify --bundle checks offline.
  With an auditor's --token, records outside that auditor's scope are exported redacted: their
  place in the chain (seq, prev, hash) without their content.`,
};
const USAGE = `usage:\n${Object.values(HELP).map((h) => `  ${h.split('\n')[0]}`).join('\n')}\nnpm run audit -- <command> --help for details`;

function fail(message: string, code = 2): never {
  console.error(`audit: ${message}`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : (e as Error).message, 1);
  }
}

/** A one-line refusal when Redis cannot be reached, instead of a client retrying and printing stacks. */
async function reachRedis(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, enableOfflineQueue: false });
  let cause: NodeJS.ErrnoException | null = null;
  probe.on('error', (e: NodeJS.ErrnoException) => {
    cause = e;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    const where = new URL(url);
    const why = (cause as NodeJS.ErrnoException | null) ?? (e as NodeJS.ErrnoException);
    fail(`cannot reach Redis at ${where.hostname}:${where.port || '6379'} (${why.code ?? why.message}); is it running, and is REDIS_URL right?`, 1);
  } finally {
    probe.disconnect();
  }
}

async function allRecords(c: Config): Promise<AuditRecord[]> {
  if (c.redisUrl !== null) await reachRedis(c.redisUrl);
  const reader = auditLogReader(c);
  try {
    return await readAuditRecords(reader);
  } finally {
    await reader.close();
  }
}

/** The matching records of the log, read in batches: the log is never held whole. */
async function loggedRecords(c: Config, filter: AuditFilter, limit: number): Promise<AuditRecord[]> {
  if (c.redisUrl !== null) await reachRedis(c.redisUrl);
  const reader = auditLogReader(c);
  try {
    // Only records the log key sealed are printed; what is passed over is named on stderr.
    const warn = (l: string): void => console.error(`audit: warning: ${l}`);
    return (await pageAuditRecords(reader, filter, { first: limit }, { ...sealCheckOf(c, warn), tails: (u) => warn(unprovenLine(u)) })).records;
  } finally {
    await reader.close();
  }
}

/** With ARCHIVE_URL the query reads the PostgreSQL archive page by page, in the log's order. */
async function archivedRecords(archiveUrl: string, filter: AuditFilter, limit: number): Promise<AuditRecord[]> {
  const read = archiveAuditReader(archiveUrl);
  const out: AuditRecord[] = [];
  let after: string | undefined;
  try {
    do {
      const page = await read(filter, { first: Math.min(10_000, limit - out.length), ...(after !== undefined ? { after } : {}) });
      out.push(...page.records);
      after = page.next ?? undefined;
    } while (after !== undefined && out.length < limit);
  } catch (e) {
    fail(`${(e as Error).message}; is PostgreSQL running, and is ARCHIVE_URL right?`, 1);
  } finally {
    await read.close();
  }
  return out;
}

function time(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Number.isNaN(Date.parse(v))) fail(`--${name} must be an ISO time, got "${v}"`);
  return new Date(v).toISOString();
}

function args(command: string, rest: string[], options: Options): Record<string, string | boolean | undefined> {
  return commandArgs(rest, options, HELP[command] ?? '', (m) => fail(m));
}

/** The scope of --token: it must be a valid token of the configured issuer with role auditor. */
async function scopeOf(c: Config, token: string | undefined): Promise<{ readonly party?: string }> {
  if (token === undefined) return {};
  // The agency must be a member in good standing, as the gateway would check it now.
  const members = await readMembers(c);
  const auth = bearerVerifier(verificationKey(c), { issuer: c.jwtIssuer, audience: c.jwtAudience, maxLifetimeSeconds: c.jwtMaxTtlSeconds, members })(`Bearer ${token.trim()}`);
  if (!auth.ok) fail(`--token refused: ${auth.why.startsWith('Authorization header') ? 'not a JWT' : auth.why}`, 1);
  if (!auth.principal.roles.includes('auditor')) fail(`--token is ${auth.principal.sub} of ${auth.principal.agency} without role auditor; the access log is for auditors`, 1);
  return auditorScope(auth.principal.agency);
}

function table(records: readonly AuditRecord[]): void {
  const rows = records.map((r) => [r.ts, r.agency, r.purpose ?? '-', r.coordinate, r.decision, r.reason ?? '', String(r.count), r.entityKeys.slice(0, 3).join(' ') + (r.entityKeys.length > 3 ? ` +${r.entityKeys.length - 3}` : '')]);
  const head = ['time', 'agency', 'purpose', 'field', 'decision', 'reason', 'count', 'entities'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  console.log(`${records.length} record(s)`);
}

/** Prints one verification; true when intact. Notes already printed (the same for both logs) are not repeated. */
const noted = new Set<string>();
function report(what: string, unit: string, v: Verification): boolean {
  for (const n of v.notes) {
    if (!noted.has(n)) console.log(`note: ${n}`);
    noted.add(n);
  }
  if (v.ok) {
    console.log(`${what} intact: ${v.records} ${unit}(s) in ${v.chains} chain(s)`);
    return true;
  }
  const b = v.firstBad!;
  console.log(`${what} BROKEN at ${b.where} (chain ${b.chain}${b.seq !== null ? `, seq ${b.seq}` : ''}): ${b.why}`);
  return false;
}

exitQuietlyOnClosedPipe();
const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'query': {
    const a = args('query', rest, {
      agency: { type: 'string' }, dataset: { type: 'string' }, entity: { type: 'string' }, coordinate: { type: 'string' },
      since: { type: 'string' }, until: { type: 'string' }, decision: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, token: { type: 'string' },
    });
    const decision = a['decision'] as string | undefined;
    if (decision !== undefined && decision !== 'ALLOW' && decision !== 'DENY') fail(`--decision must be ALLOW or DENY, got "${decision}"`);
    const limit = a['limit'] === undefined ? Infinity : Number(a['limit']);
    if (!(limit > 0)) fail(`--limit must be a positive number, got "${String(a['limit'])}"`);
    const c = config();
    const filter: AuditFilter = {
      ...(a['agency'] ? { agency: a['agency'] as string } : {}),
      ...(a['dataset'] ? { dataset: a['dataset'] as string } : {}),
      ...(a['entity'] ? { entityKey: a['entity'] as string } : {}),
      ...(a['coordinate'] ? { coordinate: a['coordinate'] as string } : {}),
      ...(a['since'] ? { since: time('since', a['since'] as string)! } : {}),
      ...(a['until'] ? { until: time('until', a['until'] as string)! } : {}),
      ...(decision ? { decision } : {}),
      ...(await scopeOf(c, a['token'] as string | undefined)),
    };
    const found = c.archiveUrl !== null ? await archivedRecords(c.archiveUrl, filter, limit) : await loggedRecords(c, filter, limit);
    if (a['json'] === true) for (const r of found) process.stdout.write(`${JSON.stringify(r)}\n`);
    else table(found);
    break;
  }
  case 'verify': {
    const a = args('verify', rest, { bundle: { type: 'string' } });
    if (typeof a['bundle'] === 'string') {
      let bundle: Bundle;
      try {
        bundle = JSON.parse(readFileSync(a['bundle'], 'utf8')) as Bundle;
      } catch (e) {
        fail(`cannot read bundle ${a['bundle']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
      }
      const problem = bundleProblem(bundle);
      if (problem !== null) {
        console.log(`bundle BROKEN: ${problem}`);
        process.exit(1);
      }
      const n = bundle.instances.reduce((s, i) => s + i.records.length, 0);
      console.log(`bundle intact: ${n} record(s) in ${bundle.instances.length} chain(s), signatures valid`);
      process.exit(0);
    }
    const c = config();
    if (c.redisUrl !== null) await reachRedis(c.redisUrl);
    const audit = report('audit log', 'record', await verifyAuditLog(c));
    const ledger = report('ledger', 'event', await verifyLedger(c));
    process.exit(audit && ledger ? 0 : 1);
    break;
  }
  case 'export': {
    const a = args('export', rest, { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' }, token: { type: 'string' } });
    if (typeof a['out'] !== 'string') fail(`export needs --out FILE\n${HELP['export']}`);
    const c = config();
    const scope = await scopeOf(c, a['token'] as string | undefined);
    const bundle = buildBundle(c.dataDir, await allRecords(c), time('since', a['since'] as string | undefined) ?? null, time('until', a['until'] as string | undefined) ?? null, (r) => matches(r, scope));
    writeFileSync(a['out'], `${JSON.stringify(bundle)}\n`);
    const n = bundle.instances.reduce((s, i) => s + i.records.filter((r) => !('redacted' in r)).length, 0);
    console.log(`exported ${n} record(s) from ${bundle.instances.length} chain(s) to ${a['out']}`);
    break;
  }
  case 'seal-legacy': {
    const a = args('seal-legacy', rest, { by: { type: 'string' } });
    const by = typeof a['by'] === 'string' ? a['by'].trim() : '';
    if (by === '') fail(`seal-legacy needs --by NAME (who vouches for the old records)\n${HELP['seal-legacy']}`);
    const c = config();
    if (c.redisUrl !== null) await reachRedis(c.redisUrl);
    let chains: LegacyChain[];
    try {
      chains = [...(await legacyChains(c, 'audit')), ...(await legacyChains(c, LEDGER_LOG))];
    } catch (e) {
      if (e instanceof LegacyRefusedError) fail(`refused: ${e.message}`, 1);
      throw e;
    }
    if (chains.length === 0) {
      console.log('nothing to seal: every chain carries seals of the log key');
      break;
    }
    const key = logKey(c.dataDir, c.logSigningKey);
    const at = new Date().toISOString();
    const actor = { sub: by, agency: 'itd' };
    const heads = chains.map((l) => ({ log: l.log, chain: l.chain, seq: l.head.seq, hash: l.head.hash }));
    for (const l of chains.filter((x) => x.log === 'audit')) {
      // An access record of the operator's act: readers and the archive take it as any other.
      const body = auditBody({ ts: at, requestId: `seal-legacy-${at}`, operationName: 'seal-legacy', operationHash: '0'.repeat(64), sub: by, agency: 'itd', roles: ['operator'], purpose: null, coordinate: 'Query.auditChainStatus', dataset: 'itd.audit-log', provider: 'itd', class: null, decision: 'ALLOW', reason: `seal-legacy: records 1..${l.head.seq} adopted`, grantId: null, entityKeys: [], count: l.head.seq });
      await appendAdoption(c, l.log, l.chain, l.head, body, key);
    }
    const event = { type: 'log.legacy-sealed' as const, data: { heads } };
    const ledgerHead = chains.find((x) => x.log === LEDGER_LOG && x.chain === LEDGER_CHAIN);
    if (ledgerHead !== undefined) {
      await appendAdoption(c, LEDGER_LOG, LEDGER_CHAIN, ledgerHead.head, JSON.stringify({ at, type: event.type, actor, data: event.data }), key);
    } else {
      const ledger = await openLedger({ dataDir: c.dataDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix, logSigningKey: c.logSigningKey });
      await ledger.record(event, actor);
      await ledger.close();
    }
    for (const h of heads) console.log(`sealed ${h.log} chain ${h.chain}: records 1..${h.seq} (head ${h.hash}) adopted by ${by}`);
    break;
  }
  case undefined:
  default:
    otherCommand(command, USAGE, fail);
}
