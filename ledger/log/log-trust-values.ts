import path from 'node:path';
import { pemOrFile } from '../../common/config-values.ts';
import { logKeyProblem } from './log-key.ts';

/**
 * LOG_SIGNING_KEY and WITNESS_URLS, read the same way by every process that writes a log: the
 * gateway and a host running only subgraphs (the exchange subgraph records in the ledger).
 */
export function logSigningKeyValue(raw: string | undefined, dataDir: string, problems: string[]): string | null {
  if (raw === undefined) return null;
  const pem = pemOrFile('LOG_SIGNING_KEY', raw, problems);
  const problem = pem === null ? null : logKeyProblem(pem);
  if (problem !== null) problems.push(`LOG_SIGNING_KEY ${problem}`);
  const rel = path.relative(dataDir, path.resolve(raw));
  const insideDataDir = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  if (pem !== null && !raw.includes('-----BEGIN') && insideDataDir) problems.push('LOG_SIGNING_KEY must not be kept inside DATA_DIR (whoever can change the log could sign with it)');
  return problem === null ? pem : null;
}

export function witnessUrlsValue(raw: string | undefined, problems: string[]): readonly string[] {
  const witnessUrls: string[] = [];
  for (const part of (raw ?? '').split(',')) {
    const url = part.trim();
    if (url === '') continue;
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      witnessUrls.push(url);
    } catch {
      problems.push(`WITNESS_URLS: "${url}" is not an http(s) URL`);
    }
  }
  return Object.freeze(witnessUrls);
}
