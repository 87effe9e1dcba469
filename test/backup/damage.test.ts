import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArchive } from '../../ledger/backup/archive.ts';
import { createBackup } from '../../ledger/backup/create.ts';
import { openLedger } from '../../ledger/ledger.ts';
import { openFileLog } from '../../ledger/log/file-log.ts';
import { ROOT } from '../helpers/root.ts';
import { backupCli, linesOf } from './cli.ts';

const KEY = 'correct horse battery staple 42';
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-damage-'));
const dataDir = path.join(tmp, 'data');
const backupDir = path.join(tmp, 'backups');
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ DATA_DIR: dataDir, BACKUP_DIR: backupDir, POLICY_DIR: path.join(ROOT, 'policies'), BACKUP_KEY: KEY, ...extra });
let archive: Buffer;

/** A copy of the archive with `edit` applied, written beside it; returns its path. */
function damaged(name: string, edit: (b: Buffer) => Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, edit(Buffer.from(archive)));
  return file;
}

/** Where the body of the archive's file `p` starts and how long it is. */
function bodyOf(p: string): { start: number; bytes: number } {
  const parsed = parseArchive(archive);
  if (typeof parsed === 'string') throw new Error(parsed);
  const header = archive.length - parsed.manifest.files.reduce((s, f) => s + f.bytes, 0);
  let start = header;
  for (const f of parsed.manifest.files) {
    if (f.path === p) return { start, bytes: f.bytes };
    start += f.bytes;
  }
  throw new Error(`no ${p}`);
}

beforeAll(async () => {
  const ledger = await openLedger({ dataDir, redisUrl: null });
  for (let i = 0; i < 5; i++) await ledger.record({ type: 'dataset.updated', data: { dataset: 'tax.credit-rating', asOf: `2026-0${i + 1}-01` } }, null);
  await ledger.close();
  const audit = await openFileLog({ dataDir, log: 'audit', chain: 'gw-1', mode: 'exclusive', sink: { info() {}, warn() {} } });
  await audit.append(['{"agency":"eeb","decision":"ALLOW"}', '{"agency":"amr","decision":"DENY"}']);
  await audit.close();
  const created = await createBackup({ source: { dataDir, policyDir: path.join(ROOT, 'policies'), redisUrl: null, redisPrefix: 'exchange:' }, backupDir, backupKey: KEY });
  archive = readFileSync(created.file);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('backup verify and restore refuse damage with one clear line and change nothing', () => {
  it('verifies an intact archive with exit 0, the sealed keys opened with BACKUP_KEY', async () => {
    const r = await backupCli(['verify', readdirSync(backupDir)[0]!], env());
    expect(linesOf(r)).toEqual([expect.stringMatching(/^archive intact: exchange-.*\.backup: 7 record\(s\) in 2 chain\(s\), \d+ file\(s\), signed by the exchange log key, keys open with BACKUP_KEY$/)]);
    expect(r.status).toBe(0);
  });

  it('holds no key material in clear', () => {
    expect(archive.includes('PRIVATE KEY')).toBe(false);
  });

  it('names the segment whose byte was flipped', async () => {
    const { start } = bodyOf('ledger/authority/000001.jsonl');
    const file = damaged('flipped.backup', (b) => {
      b[start + 10] = b[start + 10]! ^ 0x01;
      return b;
    });
    const r = await backupCli(['verify', file], env());
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual(['archive DAMAGED: flipped.backup: ledger/authority/000001.jsonl: SHA-256 does not match the manifest (the file is damaged)']);
  });

  it('names a file cut out of the archive', async () => {
    const { start, bytes } = bodyOf('witness/audit/gw-1.jsonl');
    const file = damaged('cut.backup', (b) => Buffer.concat([b.subarray(0, start), b.subarray(start + bytes)]));
    const r = await backupCli(['verify', file], env());
    expect(r.status).toBe(1);
    expect(linesOf(r)).toHaveLength(1);
    expect(linesOf(r)[0]).toMatch(/^archive DAMAGED: cut\.backup: /);
  });

  it('refuses an edited manifest', async () => {
    const file = damaged('manifest.backup', (b) => Buffer.from(b.toString('latin1').replace('"store":"file"', '"store":"redi"'), 'latin1'));
    const r = await backupCli(['verify', file], env());
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual(['archive DAMAGED: manifest.backup: manifest: its signature does not verify (the manifest or its seal was edited)']);
  });

  it('says an archive that is not there is not found', async () => {
    const r = await backupCli(['verify', 'exchange-19990101T000000Z-000000'], env());
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual(['backup: archive exchange-19990101T000000Z-000000 not found (looked at the path, in BACKUP_DIR and in OFFSITE_DIR)']);
  });

  it('fails verify and restore under a wrong BACKUP_KEY with one line, writing nothing', async () => {
    const target = path.join(tmp, 'restore-wrong-key');
    const name = readdirSync(backupDir)[0]!;
    const v = await backupCli(['verify', name], env({ BACKUP_KEY: 'not the key it was made with' }));
    expect(v.status).toBe(1);
    expect(linesOf(v)).toEqual([`archive NOT OPENED: ${name}: archive: BACKUP_KEY does not open this archive (a different BACKUP_KEY was used to create it)`]);
    const r = await backupCli(['restore', name], env({ BACKUP_KEY: 'not the key it was made with', DATA_DIR: target }));
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual(['backup: archive: BACKUP_KEY does not open this archive (a different BACKUP_KEY was used to create it)']);
    expect(existsSync(target)).toBe(false);
  });

  it('restores a damaged archive not at all', async () => {
    const target = path.join(tmp, 'restore-damaged');
    const r = await backupCli(['restore', path.join(tmp, 'flipped.backup')], env({ DATA_DIR: target }));
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual(['backup: ledger/authority/000001.jsonl: SHA-256 does not match the manifest (the file is damaged)']);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses to restore into a DATA_DIR that is not empty', async () => {
    const target = path.join(tmp, 'restore-busy');
    mkdirSync(target);
    writeFileSync(path.join(target, 'something'), 'x');
    const r = await backupCli(['restore', readdirSync(backupDir)[0]!], env({ DATA_DIR: target }));
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual([`backup: DATA_DIR ${target} is not empty: restore only into an empty DATA_DIR (move the old one aside first)`]);
    expect(readdirSync(target)).toEqual(['something']);
  });

  it('refuses to create an archive when BACKUP_KEY is not set, saying so', async () => {
    const r = await backupCli(['create'], env({ BACKUP_KEY: '' }));
    expect(r.status).toBe(1);
    expect(linesOf(r)).toEqual(['backup: BACKUP_KEY is not set: an archive is encrypted with it whole (access records, requests, keys), never in clear; set BACKUP_KEY (kept apart from the backups)']);
  });
});
