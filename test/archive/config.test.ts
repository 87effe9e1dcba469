import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.ts';

function problem(url: string): string {
  try {
    loadConfig({ ARCHIVE_URL: url });
  } catch (e) {
    return (e as ConfigError).problems.join('; ');
  }
  return '';
}

describe('ARCHIVE_URL', () => {
  it('is off when unset and kept as given when it names a PostgreSQL database', () => {
    expect(loadConfig({}).archiveUrl).toBeNull();
    expect(loadConfig({ ARCHIVE_URL: 'postgres://archiver@127.0.0.1:5432/exchange_archive' }).archiveUrl).toBe('postgres://archiver@127.0.0.1:5432/exchange_archive');
  });

  it.each([
    ['mysql://u@h/db', 'ARCHIVE_URL must be a postgres:// URL, got scheme "mysql"'],
    ['postgres://u@127.0.0.1:5432', 'ARCHIVE_URL must name a database, as in postgres://user@host:5432/database'],
    ['not a url', 'ARCHIVE_URL must look like postgres://user@host:5432/database'],
  ])('refuses %s with a line naming the variable', (url, message) => {
    expect(problem(url)).toBe(message);
  });

  it('never repeats the password of a refused URL', () => {
    expect(problem('mysql://archiver:s3cret@h/db')).not.toContain('s3cret');
  });
});

describe('ARCHIVE_RETENTION_YEARS', () => {
  it('is unset (keep every partition) by default and a whole number of years when set', () => {
    expect(loadConfig({}).archiveRetentionYears).toBeNull();
    expect(loadConfig({ ARCHIVE_RETENTION_YEARS: '6' }).archiveRetentionYears).toBe(6);
  });

  it.each(['0', '2.5', 'six'])('refuses %s with a line naming the variable', (v) => {
    expect(() => loadConfig({ ARCHIVE_RETENTION_YEARS: v })).toThrow(`ARCHIVE_RETENTION_YEARS must be an integer from 1 to 100, got "${v}"`);
  });
});
