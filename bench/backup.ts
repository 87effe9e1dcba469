import { rmSync } from 'node:fs';
import path from 'node:path';
import { createBackup } from '../ledger/backup/create.ts';
import { readMembers } from '../ledger/backup/lineage.ts';
import { restoreBackup } from '../ledger/backup/restore.ts';
import type { BackupSource } from '../ledger/backup/sources.ts';

export const BENCH_BACKUP_KEY = 'bench backup key, not a secret';

export interface Throughput {
  readonly bytes: number;
  readonly records: number;
  readonly seconds: number;
  readonly megabytesPerSecond: number;
  readonly recordsPerSecond: number;
}

function throughput(bytes: number, records: number, seconds: number): Throughput {
  return { bytes, records, seconds, megabytesPerSecond: bytes / 1e6 / seconds, recordsPerSecond: records / seconds };
}

/** One full archive of `source` and its restore into an empty directory, each timed, with nothing else running. */
export async function backupAndRestore(source: BackupSource, dir: string): Promise<{ backup: Throughput; restore: Throughput }> {
  const started = performance.now();
  const created = await createBackup({ source, backupDir: path.join(dir, 'archives'), backupKey: BENCH_BACKUP_KEY, mode: 'full' });
  const backup = throughput(created.bytes, created.records, (performance.now() - started) / 1000);
  const target = { ...source, dataDir: path.join(dir, 'restored'), policyDir: path.join(dir, 'restored-policies') };
  const t0 = performance.now();
  const restored = await restoreBackup(await readMembers([created.file]), { target, backupKey: BENCH_BACKUP_KEY });
  const restore = throughput(created.bytes, restored.records, (performance.now() - t0) / 1000);
  rmSync(dir, { recursive: true, force: true });
  return { backup, restore };
}
