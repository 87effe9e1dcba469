import { accessSync, constants, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { commandArgs, otherCommand } from './args.ts';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { ARCHIVE_EXT } from '../ledger/backup/archive.ts';
import { listArchives } from '../ledger/backup/catalog.ts';
import { knownIdentity } from '../ledger/backup/identity.ts';
import { BackupRefusedError } from '../ledger/backup/create.ts';
import { checkLineage, lineageOf, readMembers, type Member } from '../ledger/backup/lineage.ts';
import { OffsiteCopyError } from '../ledger/backup/offsite.ts';
import { restoreBackup, RestoreRefusedError } from '../ledger/backup/restore.ts';
import type { RetentionRule } from '../ledger/backup/retention.ts';
import { BrokenChainError } from '../ledger/backup/snapshot.ts';
import { runBackup } from '../ledger/backup/run.ts';
import type { BackupSource } from '../ledger/backup/sources.ts';
import { BackupBusyError, watchBackups } from '../ledger/backup/state.ts';
import { openLedger } from '../ledger/ledger.ts';
import { logPublicKey } from '../ledger/log/witness.ts';

/** npm run backup -- create | list | verify <archive> | restore <archive> (docs/operations.md). */
const USAGE = `usage:
  npm run backup -- create [--full | --incremental] [--without-keys] [--keep-daily N] [--keep-monthly M]
      writes an archive to BACKUP_DIR, copies it to OFFSITE_DIR and verifies the copy,
      records it in the ledger, then deletes archives beyond the retention rule;
      --incremental copies only what was added since the newest archive (default: as
      BACKUP_INCREMENTS says), --full copies everything
  npm run backup -- list
      every archive in BACKUP_DIR and OFFSITE_DIR, verified
  npm run backup -- verify <archive>
      exit 0 when intact; 1 naming the damaged file; archives are encrypted with BACKUP_KEY: with it the
      chains and sealed keys are checked too, without it only the signature and every stored byte;
      an incremental archive is verified with every base it adds to
  npm run backup -- restore <archive> [--accept-foreign "<reason>"]
      into an empty DATA_DIR (an increment with its bases); then npm run audit -- verify, and start the exchange;
      an archive signed by another exchange's log key (see BACKUP_DIR/exchange-identity.pem) is refused
      unless --accept-foreign gives the reason, which is recorded in the ledger
  <archive> is a file path, or the name of an archive in BACKUP_DIR or OFFSITE_DIR.`;

function fail(message: string): never {
  console.error(`backup: ${message}`);
  process.exit(1);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : (e as Error).message);
  }
}

function sourceOf(c: Config): BackupSource {
  return { dataDir: c.dataDir, policyDir: c.policyDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix };
}

/** The archive named on the command line: a path, or a name in BACKUP_DIR, then OFFSITE_DIR. */
function archivePath(c: Config, arg: string | undefined): string {
  if (arg === undefined) fail(`name the archive\n${USAGE}`);
  const names = arg.endsWith(ARCHIVE_EXT) ? [arg] : [arg, `${arg}${ARCHIVE_EXT}`];
  const candidates = [...names, ...names.map((n) => path.join(c.backup.dir, n)), ...(c.backup.offsiteDir === null ? [] : names.map((n) => path.join(c.backup.offsiteDir!, n)))];
  const found = candidates.find((f) => existsSync(f));
  if (found === undefined) fail(`archive ${arg} not found (looked at the path, in BACKUP_DIR and in OFFSITE_DIR)`);
  return found;
}

function readable(file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (e) {
    fail(`cannot read archive ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function count(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw)) fail(`--${flag} must be a whole number, got "${raw}"`);
  return Number(raw);
}

async function create(c: Config, rest: string[]): Promise<void> {
  const values = commandArgs(rest, { 'without-keys': { type: 'boolean' }, full: { type: 'boolean' }, incremental: { type: 'boolean' }, 'keep-daily': { type: 'string' }, 'keep-monthly': { type: 'string' } }, USAGE, fail);
  if (values['full'] === true && values['incremental'] === true) fail('--full and --incremental exclude each other');
  const rule: RetentionRule = { daily: Math.max(1, count('keep-daily', values['keep-daily'] as string | undefined, c.backup.keepDaily)), monthly: count('keep-monthly', values['keep-monthly'] as string | undefined, c.backup.keepMonthly) };
  const ledger = await openLedger({ dataDir: c.dataDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix, logSigningKey: c.logSigningKey, witnessUrls: c.witnessUrls });
  const watch = watchBackups(ledger);
  try {
    await runBackup({
      source: sourceOf(c),
      settings: c.backup,
      ledger,
      watch,
      claim: { by: `cli:${hostname()}:${process.pid}`, now: Date.now, due: null },
      mode: values['full'] === true ? 'full' : values['incremental'] === true ? 'incremental' : 'auto',
      withoutKeys: values['without-keys'] === true,
      rule,
      say: (line) => console.log(line),
    });
  } finally {
    watch.stop();
    await ledger.close();
  }
}

async function list(c: Config): Promise<void> {
  const here = await listArchives(c.backup.dir);
  const there = await listArchives(c.backup.offsiteDir);
  const offsiteOk = new Set(there.filter((t) => t.problem === null).map((t) => t.name));
  const names = new Set(here.map((h) => h.name));
  const kind = (a: { parent: string | null }): string => (a.parent === null ? 'full' : `increment on ${a.parent}`);
  for (const a of here) console.log(`${a.name}  ${a.createdAt}  ${kind(a)}  ${a.bytes} bytes  ${a.records} record(s)  ${a.problem === null ? 'verified' : `DAMAGED: ${a.problem}`}  off-site: ${offsiteOk.has(a.name) ? 'verified' : 'no'}`);
  for (const a of there.filter((t) => !names.has(t.name))) console.log(`${a.name}  ${a.createdAt}  ${kind(a)}  ${a.bytes} bytes  ${a.records} record(s)  off-site only: ${a.problem === null ? 'verified' : `DAMAGED: ${a.problem}`}`);
  console.log(`${here.length} archive(s) in BACKUP_DIR ${c.backup.dir}${c.backup.offsiteDir === null ? '; no OFFSITE_DIR' : `, ${there.length} in OFFSITE_DIR ${c.backup.offsiteDir}`}`);
}

/** The archive and every base it adds to, read, oldest first; exits with one line when a base is missing. */
async function lineage(c: Config, file: string, damaged: string): Promise<Member[]> {
  const found = await lineageOf(file, [c.backup.dir, c.backup.offsiteDir]);
  if ('problem' in found) {
    console.log(`${damaged}${path.basename(file)}: ${found.problem}`);
    process.exit(1);
  }
  return readMembers(found.files);
}

async function verify(c: Config, arg: string | undefined): Promise<void> {
  const file = archivePath(c, arg);
  readable(file);
  const members = await lineage(c, file, 'archive DAMAGED: ');
  const checked = await checkLineage(members, { backupKey: c.backup.key, trustedPublicKeyPem: logPublicKey(c.dataDir) });
  if ('problem' in checked) {
    // A wrong BACKUP_KEY is not damage: the archive may be fine, the key is not the one it was made with.
    console.log(`archive ${checked.wrongKey ? 'NOT OPENED' : 'DAMAGED'}: ${path.basename(file)}: ${checked.problem}`);
    process.exit(1);
  }
  const newest = checked.checked[checked.checked.length - 1]!;
  for (const n of newest.notes) console.log(`note: ${n}`);
  const m = newest.archive.header.manifest;
  const bases = members.length > 1 ? ` with its ${members.length - 1} base archive(s) (${members.slice(0, -1).map((b) => b.name).join(', ')})` : '';
  console.log(`archive intact: ${path.basename(file)}${bases}: ${checked.records} record(s) in ${m.chains.length} chain(s), ${m.files.length} file(s), signed by the exchange log key${newest.keys !== null ? ', keys open with BACKUP_KEY' : ''}`);
}

async function restore(c: Config, rest: string[]): Promise<void> {
  let parsed: { values: { 'accept-foreign'?: string }; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: { 'accept-foreign': { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const reason = parsed.values['accept-foreign'];
  if (reason !== undefined && reason.trim().length < 8) fail('--accept-foreign needs the reason, in words (at least 8 characters): it is recorded in the ledger');
  const file = archivePath(c, parsed.positionals[0]);
  readable(file);
  const members = await lineage(c, file, 'backup: ');
  const identity = knownIdentity([c.backup.dir, c.backup.offsiteDir]);
  const r = await restoreBackup(members, { target: sourceOf(c), backupKey: c.backup.key, identity, acceptForeign: reason ?? null });
  for (const n of r.notes) console.log(`note: ${n}`);
  if (r.foreign !== null) {
    const ledger = await openLedger({ dataDir: c.dataDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix });
    try {
      const e = await ledger.record({ type: 'backup.foreign-restored', data: { archive: path.basename(file), ...r.foreign, by: `cli:${hostname()}:${process.pid}` } }, null);
      console.log(`note: restored another exchange's archive (log key ${r.foreign.archiveKey}; this exchange's is ${r.foreign.exchangeKey}) on --accept-foreign; recorded in the ledger as event ${e.seq}`);
    } finally {
      await ledger.close();
    }
  }
  const from = r.archives > 1 ? ` (with its ${r.archives - 1} base archive(s))` : '';
  console.log(`restored ${path.basename(file)}${from} into DATA_DIR ${c.dataDir}: ${r.records} record(s) in ${r.manifest.chains.length} chain(s), ${r.files} file(s); next: npm run audit -- verify, then start the exchange`);
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'create':
      await create(config(), rest);
      break;
    case 'list':
      await list(config());
      break;
    case 'verify':
      await verify(config(), rest[0]);
      break;
    case 'restore':
      await restore(config(), rest);
      break;
    case undefined:
    default:
      otherCommand(command, USAGE, fail);
  }
} catch (e) {
  if (e instanceof BackupRefusedError || e instanceof BackupBusyError || e instanceof BrokenChainError || e instanceof RestoreRefusedError || e instanceof OffsiteCopyError) fail(e.message);
  fail(`${(e as NodeJS.ErrnoException).code ?? 'failed'}: ${(e as Error).message}`);
}
