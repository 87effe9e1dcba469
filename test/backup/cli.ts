import { spawn } from 'node:child_process';
import { ROOT } from '../helpers/root.ts';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run backup -- <args>` as the operator would (node --import tsx, without the npm wrapper). */
export function backupCli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BACKUP_') && k !== 'OFFSITE_DIR' && k !== 'REDIS_URL'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/backup.ts', ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The lines a command printed, stdout and stderr together, without the blank ones. */
export function linesOf(r: CliResult): string[] {
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
}
