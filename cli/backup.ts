import { existsSync, readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../gateway/config.ts';
import { ARCHIVE_EXT } from '../ledger/backup/archive.ts';
import { listArchives, pruneArchives } from '../ledger/backup/catalog.ts';
import { checkArchive } from '../ledger/backup/check.ts';
import { BackupRefusedError, createBackup } from '../ledger/backup/create.ts';
import { copyOffsite, OffsiteCopyError } from '../ledger/backup/offsite.ts';
import { restoreBackup, RestoreRefusedError } from '../ledger/backup/restore.ts';
import type { RetentionRule } from '../ledger/backup/retention.ts';
import { BrokenChainError } from '../ledger/backup/snapshot.ts';
import type { BackupSource } from '../ledger/backup/sources.ts';
import { openLedger } from '../ledger/ledger.ts';
import { LOG_KEY_FILE } from '../ledger/log/witness.ts';

/** npm run backup -- create | list | verify <archive> | restore <archive> (CONTRACT §9). */
const USAGE = `usage:
  npm run backup -- create [--without-keys] [--keep-daily N] [--keep-monthly M]
      writes an archive to BACKUP_DIR, copies it to OFFSITE_DIR and verifies the copy,
      records it in the ledger, then deletes archives beyond the retention rule
  npm run backup -- list
      every archive in BACKUP_DIR and OFFSITE_DIR, verified
  npm run backup -- verify <archive>
      exit 0 when intact; 1 naming the damaged file (BACKUP_KEY set: the sealed keys are opened too)
  npm run backup -- restore <archive>
      into an empty DATA_DIR; then npm run audit -- verify, and start the exchange
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

function readArchive(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    fail(`cannot read archive ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** This exchange's log key, when DATA_DIR has one: an archive must then be signed with it. */
function trustedKey(c: Config): string | null {
  const file = path.join(c.dataDir, 'keys', LOG_KEY_FILE);
  if (!existsSync(file)) return null;
  return createPublicKey(createPrivateKey(readFileSync(file, 'utf8'))).export({ type: 'spki', format: 'pem' }).toString();
}

function count(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw)) fail(`--${flag} must be a whole number, got "${raw}"`);
  return Number(raw);
}

async function create(c: Config, rest: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: { 'without-keys': { type: 'boolean' }, 'keep-daily': { type: 'string' }, 'keep-monthly': { type: 'string' } }, strict: true }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const rule: RetentionRule = { daily: Math.max(1, count('keep-daily', values['keep-daily'] as string | undefined, c.backup.keepDaily)), monthly: count('keep-monthly', values['keep-monthly'] as string | undefined, c.backup.keepMonthly) };
  const created = await createBackup({ source: sourceOf(c), backupDir: c.backup.dir, backupKey: c.backup.key, withoutKeys: values['without-keys'] === true });
  const m = created.manifest;
  console.log(`created ${created.file}: ${created.records} record(s) in ${m.chains.length} chain(s), ${m.files.length} file(s), ${created.bytes} bytes${m.keys === null ? ', WITHOUT keys' : ', keys sealed with BACKUP_KEY'}`);
  let offsite = false;
  if (c.backup.offsiteDir === null) console.log('no OFFSITE_DIR: the archive is on this site only');
  else {
    const dest = await copyOffsite(created.file, c.backup.offsiteDir);
    offsite = true;
    console.log(`off-site copy verified byte for byte: ${dest}`);
  }
  const ledger = await openLedger({ dataDir: c.dataDir, redisUrl: c.redisUrl, redisPrefix: c.redisPrefix });
  try {
    const e = await ledger.record({ type: 'backup.created', data: { archive: path.basename(created.file), sha256: created.sha256, bytes: created.bytes, heads: m.chains.map((h) => ({ log: h.log, chain: h.chain, seq: h.seq })), offsite } }, null);
    console.log(`recorded in the ledger as event ${e.seq} (backup.created)`);
  } finally {
    await ledger.close();
  }
  for (const dir of [c.backup.dir, c.backup.offsiteDir]) {
    for (const name of await pruneArchives(dir, rule)) console.log(`retention (${rule.daily} daily, ${rule.monthly} monthly): deleted ${path.join(dir!, name)}`);
  }
}

async function list(c: Config): Promise<void> {
  const here = await listArchives(c.backup.dir);
  const there = await listArchives(c.backup.offsiteDir);
  const offsiteOk = new Set(there.filter((t) => t.problem === null).map((t) => t.name));
  const names = new Set(here.map((h) => h.name));
  for (const a of here) console.log(`${a.name}  ${a.createdAt}  ${a.bytes} bytes  ${a.records} record(s)  ${a.problem === null ? 'verified' : `DAMAGED: ${a.problem}`}  off-site: ${offsiteOk.has(a.name) ? 'verified' : 'no'}`);
  for (const a of there.filter((t) => !names.has(t.name))) console.log(`${a.name}  ${a.createdAt}  ${a.bytes} bytes  ${a.records} record(s)  off-site only: ${a.problem === null ? 'verified' : `DAMAGED: ${a.problem}`}`);
  console.log(`${here.length} archive(s) in BACKUP_DIR ${c.backup.dir}${c.backup.offsiteDir === null ? '; no OFFSITE_DIR' : `, ${there.length} in OFFSITE_DIR ${c.backup.offsiteDir}`}`);
}

async function verify(c: Config, arg: string | undefined): Promise<void> {
  const file = archivePath(c, arg);
  const checked = await checkArchive(readArchive(file), { backupKey: c.backup.key, trustedPublicKeyPem: trustedKey(c) });
  if (!checked.ok) {
    // A wrong BACKUP_KEY is not damage: the archive may be fine, the key is not the one it was made with.
    console.log(`archive ${checked.wrongKey ? 'NOT OPENED' : 'DAMAGED'}: ${path.basename(file)}: ${checked.problem}`);
    process.exit(1);
  }
  for (const n of checked.notes) console.log(`note: ${n}`);
  const m = checked.parsed.manifest;
  console.log(`archive intact: ${path.basename(file)}: ${checked.records} record(s) in ${m.chains.length} chain(s), ${m.files.length} file(s), signed by the exchange log key${checked.keys !== null ? ', keys open with BACKUP_KEY' : ''}`);
}

async function restore(c: Config, arg: string | undefined): Promise<void> {
  const file = archivePath(c, arg);
  const r = await restoreBackup(readArchive(file), { target: sourceOf(c), backupKey: c.backup.key });
  for (const n of r.notes) console.log(`note: ${n}`);
  console.log(`restored ${path.basename(file)} into DATA_DIR ${c.dataDir}: ${r.records} record(s) in ${r.manifest.chains.length} chain(s), ${r.files} file(s); next: npm run audit -- verify, then start the exchange`);
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
      await restore(config(), rest[0]);
      break;
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      break;
    case undefined:
    default:
      fail(command === undefined ? USAGE : `unknown command "${command}"\n${USAGE}`);
  }
} catch (e) {
  if (e instanceof BackupRefusedError || e instanceof BrokenChainError || e instanceof RestoreRefusedError || e instanceof OffsiteCopyError) fail(e.message);
  fail(`${(e as NodeJS.ErrnoException).code ?? 'failed'}: ${(e as Error).message}`);
}
