import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.ts';

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('backup configuration', () => {
  it('defaults BACKUP_DIR to backups beside DATA_DIR, no off-site copy, no key, 7 daily and 12 monthly', () => {
    const c = loadConfig({ DATA_DIR: '/srv/exchange/data' });
    expect(c.backup).toEqual({ dir: path.resolve('/srv/exchange/backups'), offsiteDir: null, key: null, keepDaily: 7, keepMonthly: 12, intervalSeconds: null, increments: 0 });
    expect(Object.isFrozen(c.backup)).toBe(true);
  });

  it('reads BACKUP_INTERVAL as a duration and BACKUP_INCREMENTS as a count', () => {
    const c = loadConfig({ BACKUP_INTERVAL: '6h', BACKUP_KEY: 'sixteen bytes at least', BACKUP_INCREMENTS: '5' });
    expect(c.backup).toMatchObject({ intervalSeconds: 6 * 3600, increments: 5 });
  });

  it.each([
    [{ DATA_DIR: '/srv/d', BACKUP_DIR: '/srv/d/backups' }, 'BACKUP_DIR must be outside DATA_DIR (a restore needs an empty DATA_DIR), got "/srv/d/backups"'],
    [{ DATA_DIR: '/srv/d', BACKUP_DIR: '/srv/b', OFFSITE_DIR: '/srv/b/off' }, 'OFFSITE_DIR must be apart from DATA_DIR and BACKUP_DIR (it stands for another site), got "/srv/b/off"'],
    [{ BACKUP_KEY: 'short' }, 'BACKUP_KEY must be at least 16 bytes (a passphrase or random text kept apart from the backups)'],
    [{ BACKUP_KEEP_DAILY: '0' }, 'BACKUP_KEEP_DAILY must be an integer from 1 to 3650, got "0"'],
    [{ BACKUP_KEEP_MONTHLY: 'many' }, 'BACKUP_KEEP_MONTHLY must be an integer from 0 to 1200, got "many"'],
    [{ BACKUP_INTERVAL: 'daily', BACKUP_KEY: 'sixteen bytes at least' }, 'BACKUP_INTERVAL must look like 90s, 30m, 24h or 1d, got "daily"'],
    [{ BACKUP_INTERVAL: '1h' }, 'BACKUP_INTERVAL needs BACKUP_KEY: scheduled archives hold the keys sealed with it'],
    [{ BACKUP_INCREMENTS: '-1' }, 'BACKUP_INCREMENTS must be an integer from 0 to 1000, got "-1"'],
  ])('refuses %o', (env, message) => {
    expect(problems(env)).toEqual([message]);
  });
});
