import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileLogReader } from '../log/file-log.ts';
import type { LogReader } from '../log/log.ts';
import { redisLogReader } from '../log/redis-log.ts';

/** Where the exchange keeps what a backup takes: the logs in files or in Redis, the rest in directories. */
export interface BackupSource {
  readonly dataDir: string;
  readonly policyDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
}

/** The logs an archive holds: the access log (one chain per gateway) and the authority's ledger. */
export const BACKED_UP_LOGS = ['audit', 'ledger'] as const;

export function readerOf(src: BackupSource, log: string): LogReader {
  return src.redisUrl === null ? fileLogReader(src.dataDir, log) : redisLogReader({ url: src.redisUrl, prefix: src.redisPrefix, log });
}

/** Every regular file under `dir`, by path relative to it (sorted); none when it does not exist. */
export async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(r);
      else if (d.isFile() && !d.name.endsWith('.tmp')) out.set(r, await readFile(path.join(dir, r)));
    }
  };
  await walk('');
  return out;
}
