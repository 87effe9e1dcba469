import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildBundle, bundleProblem, type Bundle } from '../gateway/audit/bundle.ts';
import type { AuditRecord } from '../gateway/audit/record.ts';
import { auditLogReader, readAuditRecords } from '../gateway/audit/reader.ts';
import { matches, type AuditFilter } from '../gateway/audit/store-types.ts';
import { verifyAuditLog, type Verification } from '../gateway/audit/verify.ts';
import { verifyLedger } from '../ledger/ledger.ts';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';

/** npm run audit -- query | verify | export: the auditors' tools (CONTRACT §5). */
const USAGE = `usage:
  npm run audit -- query [--agency A] [--dataset D] [--entity KEY] [--coordinate C] [--since T] [--until T] [--decision ALLOW|DENY] [--limit N] [--json]
  npm run audit -- verify
  npm run audit -- verify --bundle FILE
  npm run audit -- export [--since T] [--until T] --out FILE`;

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

async function allRecords(c: Config): Promise<AuditRecord[]> {
  const reader = auditLogReader(c);
  try {
    return await readAuditRecords(reader);
  } finally {
    await reader.close();
  }
}

function time(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Number.isNaN(Date.parse(v))) fail(`--${name} must be an ISO time, got "${v}"`);
  return new Date(v).toISOString();
}

function args(rest: string[], options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: rest, options, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
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

/** Prints one verification; true when intact. */
function report(what: string, unit: string, v: Verification): boolean {
  for (const n of v.notes) console.log(`note: ${n}`);
  if (v.ok) {
    console.log(`${what} intact: ${v.records} ${unit}(s) in ${v.chains} chain(s)`);
    return true;
  }
  const b = v.firstBad!;
  console.log(`${what} BROKEN at ${b.where} (chain ${b.chain}${b.seq !== null ? `, seq ${b.seq}` : ''}): ${b.why}`);
  return false;
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'query': {
    const a = args(rest, {
      agency: { type: 'string' }, dataset: { type: 'string' }, entity: { type: 'string' }, coordinate: { type: 'string' },
      since: { type: 'string' }, until: { type: 'string' }, decision: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
    });
    const decision = a['decision'] as string | undefined;
    if (decision !== undefined && decision !== 'ALLOW' && decision !== 'DENY') fail(`--decision must be ALLOW or DENY, got "${decision}"`);
    const limit = a['limit'] === undefined ? Infinity : Number(a['limit']);
    if (!(limit > 0)) fail(`--limit must be a positive number, got "${String(a['limit'])}"`);
    const filter: AuditFilter = {
      ...(a['agency'] ? { agency: a['agency'] as string } : {}),
      ...(a['dataset'] ? { dataset: a['dataset'] as string } : {}),
      ...(a['entity'] ? { entityKey: a['entity'] as string } : {}),
      ...(a['coordinate'] ? { coordinate: a['coordinate'] as string } : {}),
      ...(a['since'] ? { since: time('since', a['since'] as string)! } : {}),
      ...(a['until'] ? { until: time('until', a['until'] as string)! } : {}),
      ...(decision ? { decision } : {}),
    };
    const found = (await allRecords(config())).filter((r) => matches(r, filter)).sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0)).slice(0, limit);
    if (a['json'] === true) for (const r of found) process.stdout.write(`${JSON.stringify(r)}\n`);
    else table(found);
    break;
  }
  case 'verify': {
    const a = args(rest, { bundle: { type: 'string' } });
    if (typeof a['bundle'] === 'string') {
      let bundle: Bundle;
      try {
        bundle = JSON.parse(readFileSync(a['bundle'], 'utf8')) as Bundle;
      } catch (e) {
        fail(`cannot read bundle ${a['bundle']}: ${(e as Error).message}`, 1);
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
    const audit = report('audit log', 'record', await verifyAuditLog(c));
    const ledger = report('ledger', 'event', await verifyLedger(c));
    process.exit(audit && ledger ? 0 : 1);
    break;
  }
  case 'export': {
    const a = args(rest, { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } });
    if (typeof a['out'] !== 'string') fail(`export needs --out FILE\n${USAGE}`);
    const c = config();
    const bundle = buildBundle(c.dataDir, await allRecords(c), time('since', a['since'] as string | undefined) ?? null, time('until', a['until'] as string | undefined) ?? null);
    writeFileSync(a['out'], `${JSON.stringify(bundle)}\n`);
    const n = bundle.instances.reduce((s, i) => s + i.records.length, 0);
    console.log(`exported ${n} record(s) from ${bundle.instances.length} chain(s) to ${a['out']}`);
    break;
  }
  case undefined:
  default:
    fail(USAGE);
}
