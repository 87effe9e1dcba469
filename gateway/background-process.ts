import { startBackground, type Background } from '../ledger/background/supervisor.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

/**
 * Starts the archive shipper and the backup schedule in a process of their own, off the request
 * path; null when the configuration asks for neither (no ARCHIVE_URL, no BACKUP_INTERVAL).
 */
export function startBackgroundProcess(config: Config, instance: string, log: Logger): Background | null {
  if (config.archiveUrl === null && config.backup.intervalSeconds === null) return null;
  return startBackground({
    settings: {
      instance,
      dataDir: config.dataDir,
      policyDir: config.policyDir,
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      logSigningKey: config.logSigningKey,
      witnessUrls: config.witnessUrls,
      archiveUrl: config.archiveUrl,
      backup: config.backup.intervalSeconds === null ? null : { ...config.backup, intervalMs: config.backup.intervalSeconds * 1000 },
    },
    sink: log,
  });
}
