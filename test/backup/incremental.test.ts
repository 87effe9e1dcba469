import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArchive, type Manifest } from '../../ledger/backup/archive.ts';
import { createBackup, type Created } from '../../ledger/backup/create.ts';
import { toPrune } from '../../ledger/backup/retention.ts';
import { BODY_OVERHEAD } from '../../ledger/backup/seal.ts';
import { verifyLedger } from '../../ledger/ledger.ts';
import { fileLogReader, openFileLog } from '../../ledger/log/file-log.ts';
import type { LogWriter } from '../../ledger/log/log.ts';
import { verifyFileAudit } from '../helpers/audit.ts';
import { ROOT } from '../helpers/root.ts';
import { backupCli, linesOf } from './cli.ts';

const KEY = 'incremental backup key, apart';
const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-backup-incremental-'));
const dataDir = path.join(tmp, 'data');
const backupDir = path.join(tmp, 'backups');
const source = { dataDir, policyDir: path.join(ROOT, 'policies'), redisUrl: null, redisPrefix: 'exchange:' };
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ DATA_DIR: dataDir, BACKUP_DIR: backupDir, POLICY_DIR: path.join(ROOT, 'policies'), BACKUP_KEY: KEY, ...extra });
const sink = { info() {}, warn() {} };
// Small segments, so that a few hundred records make a log of many segments.
const SEGMENT_BYTES = 8 * 1024;

let audit: LogWriter;
let ledger: LogWriter;
let base: Created;
let increment: Created;
let segmentsAtBase: Map<string, number>;

async function appendRecords(n: number, from: number): Promise<void> {
  for (let i = 0; i < n; i += 20) {
    await audit.append(Array.from({ length: 20 }, (_, j) => `{"agency":"eeb","field":"Enterprise.name","n":${from + i + j}}`));
    await ledger.append([`{"type":"dataset.updated","data":{"dataset":"tax.credit-rating","asOf":"2026-01-01"},"n":${from + i}}`]);
  }
}

/** Every segment file of the two logs with its size, by path relative to DATA_DIR. */
function segmentsOnDisk(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const chain of ['audit/gw-1', 'ledger/authority']) {
    for (const f of readdirSync(path.join(dir, chain)).filter((n) => n.endsWith('.jsonl'))) out.set(`${chain}/${f}`, statSync(path.join(dir, chain, f)).size);
  }
  return out;
}

function manifestOf(file: string): Manifest {
  const parsed = parseArchive(readFileSync(file));
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed.manifest;
}

beforeAll(async () => {
  audit = await openFileLog({ dataDir, log: 'audit', chain: 'gw-1', mode: 'exclusive', sink, segmentBytes: SEGMENT_BYTES });
  ledger = await openFileLog({ dataDir, log: 'ledger', chain: 'authority', mode: 'shared', sink, segmentBytes: SEGMENT_BYTES });
  await appendRecords(400, 0);
  base = await createBackup({ source, backupDir, backupKey: KEY, mode: 'full' });
  segmentsAtBase = segmentsOnDisk(dataDir);
  await appendRecords(100, 400);
  increment = await createBackup({ source, backupDir, backupKey: KEY, mode: 'incremental' });
  await audit.close();
  await ledger.close();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('incremental backups: a base and the segments added since', () => {
  it('holds in the second archive only the records added since the first, as the segments they are in', () => {
    const m = increment.manifest;
    expect(m.parent?.id).toBe(base.manifest.id);
    expect(segmentsAtBase.size).toBeGreaterThan(10);
    // 100 access records and 5 ledger records were added after the base.
    expect(increment.records).toBe(105);
    expect(m.chains.map((c) => [c.log, c.chain, c.from, c.seq])).toEqual([
      ['audit', 'gw-1', 400, 500],
      ['ledger', 'authority', 20, 25],
    ]);
    const now = segmentsOnDisk(dataDir);
    const segments = m.files.filter((f) => f.kind === 'segment');
    // Each segment in the increment is one that grew or appeared since the base, holding just the bytes added.
    const grown = [...now].filter(([p, size]) => size !== (segmentsAtBase.get(p) ?? 0)).map(([p]) => p).sort();
    expect(segments.map((f) => f.path).sort()).toEqual(grown);
    // Stored encrypted: the bytes added, plus each body's IV and tag.
    for (const f of segments) expect(f.bytes).toBe(now.get(f.path)! - (segmentsAtBase.get(f.path) ?? 0) + BODY_OVERHEAD);
    expect(grown.length).toBeLessThan(now.size / 2);
    const segmentBytes = (c: Created): number => c.manifest.files.filter((f) => f.kind === 'segment').reduce((n, f) => n + f.bytes, 0);
    expect(segmentBytes(increment)).toBeLessThan(segmentBytes(base) / 2);
    expect(increment.bytes).toBeLessThan(base.bytes);
  });

  it('reads the records after a head without reading the log from its start: the same records, where they are stored', async () => {
    const fromStart = fileLogReader(dataDir, 'audit');
    const all = await fromStart.read('gw-1', 0, 1000);
    await fromStart.close();
    for (const after of [0, 1, 399, 450, 499, 500]) {
      const fresh = fileLogReader(dataDir, 'audit');
      expect(await fresh.read('gw-1', after, 20)).toEqual(all.filter((r) => r.seq > after).slice(0, 20));
      await fresh.close();
    }
  });

  it('makes the next increment on the previous one, and a full archive when asked', async () => {
    const auto = await createBackup({ source, backupDir: path.join(tmp, 'auto'), backupKey: KEY, increments: 1 });
    expect(auto.manifest.parent).toBeNull();
    const next = await createBackup({ source, backupDir: path.join(tmp, 'auto'), backupKey: KEY, increments: 1 });
    expect(next.manifest.parent?.id).toBe(auto.manifest.id);
    expect(next.records).toBe(0);
    const third = await createBackup({ source, backupDir: path.join(tmp, 'auto'), backupKey: KEY, increments: 1 });
    expect(third.manifest.parent).toBeNull();
  });

  it('verifies the increment with its base', async () => {
    const r = await backupCli(['verify', path.basename(increment.file)], env());
    expect(linesOf(r)).toEqual([`archive intact: ${path.basename(increment.file)} with its 1 base archive(s) (${path.basename(base.file)}): 525 record(s) in 2 chain(s), ${increment.manifest.files.length} file(s), signed by the exchange log key, keys open with BACKUP_KEY`]);
    expect(r.status).toBe(0);
  });

  it('restores base and increment into the state the exchange had: the same segment files, both logs verify', async () => {
    const target = path.join(tmp, 'restored');
    const r = await backupCli(['restore', path.basename(increment.file)], env({ DATA_DIR: target, POLICY_DIR: path.join(tmp, 'restored-policies') }));
    expect(r.status, linesOf(r).join('\n')).toBe(0);
    expect(linesOf(r)).toEqual([expect.stringMatching(/^restored exchange-.*\.backup \(with its 1 base archive\(s\)\) into DATA_DIR .*: 525 record\(s\) in 2 chain\(s\), \d+ file\(s\); next: npm run audit -- verify, then start the exchange$/)]);
    for (const p of segmentsOnDisk(dataDir).keys()) expect(readFileSync(path.join(target, p)).equals(readFileSync(path.join(dataDir, p))), p).toBe(true);
    expect(segmentsOnDisk(target)).toEqual(segmentsOnDisk(dataDir));
    expect(await verifyFileAudit(target)).toMatchObject({ ok: true, records: 500 });
    expect(await verifyLedger({ dataDir: target, redisUrl: null })).toMatchObject({ ok: true, records: 25 });
  });

  it('refuses an increment when the live log no longer holds the head its parent archive ends at', async () => {
    const behind = path.join(tmp, 'behind');
    const r = await backupCli(['restore', base.file], env({ DATA_DIR: path.join(behind, 'data'), POLICY_DIR: path.join(behind, 'policies') }));
    expect(r.status, linesOf(r).join('\n')).toBe(0);
    mkdirSync(path.join(behind, 'backups'));
    copyFileSync(increment.file, path.join(behind, 'backups', path.basename(increment.file)));
    const restoredSource = { ...source, dataDir: path.join(behind, 'data') };
    await expect(createBackup({ source: restoredSource, backupDir: path.join(behind, 'backups'), backupKey: KEY, mode: 'incremental' })).rejects.toThrow(
      'audit chain gw-1 no longer holds record 500 as the last archive has it: an increment cannot follow it (make a full backup with --full, and run audit -- verify)',
    );
  });

  describe('damage in either archive fails verify and restore with one line, writing nothing', () => {
    const damagedDir = path.join(tmp, 'damaged');
    const copies = (): { base: string; inc: string } => {
      rmSync(damagedDir, { recursive: true, force: true });
      mkdirSync(damagedDir);
      const b = path.join(damagedDir, path.basename(base.file));
      const i = path.join(damagedDir, path.basename(increment.file));
      copyFileSync(base.file, b);
      copyFileSync(increment.file, i);
      return { base: b, inc: i };
    };
    const flipLastByte = (file: string, before: number): void => {
      const b = readFileSync(file);
      b[b.length - before] = b[b.length - before]! ^ 0x01;
      writeFileSync(file, b);
    };
    // An empty BACKUP_DIR, so only the copies in damagedDir are found.
    const aside = (extra: Record<string, string> = {}): Record<string, string> => env({ BACKUP_DIR: path.join(tmp, 'empty'), ...extra });

    it('a flipped byte in the increment names the increment\'s file', async () => {
      const { inc } = copies();
      const files = manifestOf(inc).files;
      const seg = files.find((f) => f.kind === 'segment')!;
      const b = readFileSync(inc);
      // The first body starts where the listed bytes end, counted from the end.
      const at = b.length - files.reduce((n, f) => n + f.bytes, 0) + 10;
      b[at] = b[at]! ^ 0x01;
      writeFileSync(inc, b);
      const v = await backupCli(['verify', inc], aside());
      expect(linesOf(v)).toEqual([`archive DAMAGED: ${path.basename(inc)}: ${seg.path}: SHA-256 does not match the manifest (the file is damaged)`]);
      expect(v.status).toBe(1);
    });

    it('a flipped byte in the base fails the increment, naming the base', async () => {
      const { base: b, inc } = copies();
      flipLastByte(b, 100);
      const v = await backupCli(['verify', inc], aside());
      expect(linesOf(v)).toEqual([`archive DAMAGED: ${path.basename(inc)}: its base ${path.basename(b)} is not the archive it was made on (SHA-256 differs: the base is damaged or replaced)`]);
      expect(v.status).toBe(1);
      const target = path.join(tmp, 'restore-damaged-base');
      const r = await backupCli(['restore', inc], aside({ DATA_DIR: target }));
      expect(linesOf(r)).toEqual([`backup: ${path.basename(inc)}: its base ${path.basename(b)} is not the archive it was made on (SHA-256 differs: the base is damaged or replaced)`]);
      expect(r.status).toBe(1);
      expect(() => statSync(target)).toThrow();
    });

    it('a missing base fails the increment, naming the base', async () => {
      const { base: b, inc } = copies();
      rmSync(b);
      const v = await backupCli(['verify', inc], aside());
      expect(linesOf(v)).toEqual([`archive DAMAGED: ${path.basename(inc)}: its base ${path.basename(b)} is missing (an incremental archive restores only with every archive it adds to)`]);
      expect(v.status).toBe(1);
    });
  });

  it('retention never deletes a base an increment it keeps needs', () => {
    const archives = [
      { name: 'full-jan', createdAt: '2026-01-01T02:00:00Z', verified: true, parent: null },
      { name: 'inc-jan-2', createdAt: '2026-01-02T02:00:00Z', verified: true, parent: 'full-jan' },
      { name: 'inc-jan-3', createdAt: '2026-01-03T02:00:00Z', verified: true, parent: 'inc-jan-2' },
      { name: 'other', createdAt: '2025-12-01T02:00:00Z', verified: true, parent: null },
    ];
    expect(toPrune(archives, { daily: 1, monthly: 1 })).toEqual(['other']);
  });
});
