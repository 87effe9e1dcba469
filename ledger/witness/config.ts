import { readFileSync } from 'node:fs';
import path from 'node:path';
import { logKeyProblem } from '../log/log-key.ts';

/** The witness service's whole environment, read and validated once (`npm run witness`). */
export interface WitnessConfig {
  /** WITNESS_HOST (default 127.0.0.1) and WITNESS_PORT (default 4100). */
  readonly host: string;
  readonly port: number;
  /** WITNESS_DATA_DIR: the witness's own storage, never an exchange's DATA_DIR (default `witness-data`). */
  readonly dataDir: string;
  /** WITNESS_KEY (Ed25519 private key, PEM or file); null: made in WITNESS_DATA_DIR/keys on first start. */
  readonly keyPem: string | null;
}

export class WitnessConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid witness configuration: ${problems.join('; ')}`);
    this.name = 'WitnessConfigError';
  }
}

export function loadWitnessConfig(env: Readonly<Record<string, string | undefined>>): WitnessConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const rawPort = str('WITNESS_PORT') ?? '4100';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) problems.push(`WITNESS_PORT must be an integer from 0 to 65535, got "${rawPort}"`);
  let keyPem: string | null = null;
  const rawKey = str('WITNESS_KEY');
  if (rawKey !== undefined) {
    if (rawKey.includes('-----BEGIN')) keyPem = rawKey.replace(/\\n/g, '\n');
    else {
      try {
        keyPem = readFileSync(rawKey, 'utf8');
      } catch {
        problems.push(`WITNESS_KEY: cannot read key file "${path.basename(rawKey)}"`);
      }
    }
    const problem = keyPem === null ? null : logKeyProblem(keyPem);
    if (problem !== null) problems.push(`WITNESS_KEY ${problem}`);
  }
  if (problems.length > 0) throw new WitnessConfigError(problems);
  return Object.freeze({ host: str('WITNESS_HOST') ?? '127.0.0.1', port, dataDir: path.resolve(str('WITNESS_DATA_DIR') ?? 'witness-data'), keyPem });
}
