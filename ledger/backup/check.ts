import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { LogReader } from '../log/log.ts';
import { verifyChain } from '../log/verify.ts';
import { checkpointValid, LOG_KEY_FILE, type Checkpoint } from '../log/witness.ts';
import { GENESIS, type ChainHead } from '../log/chain.ts';
import { parseArchive, safeRelative, sealChain, sha256, type ChainEntry, type Parsed } from './archive.ts';
import { memoryReader } from './memory-reader.ts';
import { unpackKeys, unseal, WrongBackupKeyError } from './seal.ts';

export interface CheckOptions {
  /** Opens the sealed keys (and so checks the archive was signed by the key it holds). */
  readonly backupKey: string | null;
  /** This exchange's log key, when known (a running DATA_DIR): the archive must be signed with it. */
  readonly trustedPublicKeyPem: string | null;
}

export type Checked =
  | { readonly ok: true; readonly parsed: Parsed; readonly records: number; readonly keys: ReadonlyMap<string, Buffer> | null; readonly notes: readonly string[] }
  | { readonly ok: false; readonly problem: string; readonly wrongKey: boolean };

const bad = (problem: string, wrongKey = false): Checked => ({ ok: false, problem, wrongKey });

/**
 * Everything a restore relies on, checked before anything is written: the seal over the manifest,
 * every file's size and SHA-256, every chain linking up to its head and agreeing with its signed
 * checkpoints, and the sealed keys opening with BACKUP_KEY and holding the key that signed.
 * The first problem is returned in one line naming the file.
 */
export async function checkArchive(buf: Buffer, opts: CheckOptions): Promise<Checked> {
  const parsed = parseArchive(buf);
  if (typeof parsed === 'string') return bad(parsed);
  const { manifest, seal } = parsed;
  if (seal.instance !== sealChain(manifest.id) || seal.hash !== sha256(parsed.manifestText) || seal.seq !== manifest.files.length || !checkpointValid(seal, manifest.publicKeyPem)) {
    return bad('manifest: its signature does not verify (the manifest or its seal was edited)');
  }
  if (opts.trustedPublicKeyPem !== null && opts.trustedPublicKeyPem.trim() !== manifest.publicKeyPem.trim()) {
    return bad("manifest: signed with a different log key than this exchange's (an archive of another exchange, or forged)");
  }
  for (const [i, f] of manifest.files.entries()) {
    if (!safeRelative(f.path)) return bad(`${f.path}: not a relative path inside the archive's directories`);
    const body = parsed.bodies[i]!;
    if (body.length < f.bytes) return bad(`${f.path}: missing or cut short (${body.length} of ${f.bytes} bytes present)`);
    if (sha256(body) !== f.sha256) return bad(`${f.path}: SHA-256 does not match the manifest (the file is damaged)`);
  }
  if (parsed.trailing !== 0) return bad(`archive: ${parsed.trailing} unexpected byte(s) after the last listed file`);

  let records = 0;
  for (const c of manifest.chains) {
    const problem = await chainProblem(parsed, c);
    if (problem !== null) return bad(problem);
    records += c.seq - (c.from ?? 0);
  }

  const notes: string[] = [];
  let keys: Map<string, Buffer> | null = null;
  const keysAt = manifest.files.findIndex((f) => f.kind === 'keys');
  if (manifest.keys === null || keysAt < 0) notes.push('the archive holds no keys (made with --without-keys)');
  else if (opts.backupKey === null) notes.push('keys not opened: BACKUP_KEY is not set');
  else {
    try {
      keys = unpackKeys(unseal(parsed.bodies[keysAt]!, manifest.keys, opts.backupKey));
    } catch (e) {
      if (e instanceof WrongBackupKeyError) return bad(`${manifest.files[keysAt]!.path}: ${e.message}`, true);
      throw e;
    }
    const logKey = keys.get(LOG_KEY_FILE);
    if (logKey === undefined || publicOf(logKey) !== manifest.publicKeyPem.trim()) return bad(`${manifest.files[keysAt]!.path}: the sealed keys do not hold the log key that signed the archive`);
  }
  return { ok: true, parsed, records, keys, notes };
}

function publicOf(privatePem: Buffer): string {
  try {
    return createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString().trim();
  } catch {
    return '';
  }
}

/** The chain's records and checkpoints as the archive holds them. */
export function chainParts(parsed: Parsed, log: string, chain: string): { reader: LogReader; checkpoints: Checkpoint[] } {
  const enc = encodeURIComponent(chain);
  const lines: { line: string; where: string }[] = [];
  let checkpoints: Checkpoint[] = [];
  for (const [i, f] of parsed.manifest.files.entries()) {
    const body = parsed.bodies[i]!.toString('utf8');
    if (f.kind === 'segment' && f.path.startsWith(`${log}/${enc}/`)) {
      body.split('\n').slice(0, -1).forEach((line, n) => lines.push({ line, where: `${f.path}:${n + 1}` }));
    } else if (f.kind === 'witness' && f.path === `witness/${log}/${enc}.jsonl`) {
      checkpoints = body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Checkpoint);
    }
  }
  return { reader: memoryReader(log, new Map([[chain, lines]])), checkpoints };
}

/** Whether a chain's records in the archive link from where it starts to the head the manifest names. */
async function chainProblem(parsed: Parsed, c: ChainEntry): Promise<string | null> {
  const { log, chain, seq, hash } = c;
  const start: ChainHead = { seq: c.from ?? 0, hash: c.fromHash ?? GENESIS };
  let parts;
  try {
    parts = chainParts(parsed, log, chain);
  } catch {
    return `witness/${log}/${encodeURIComponent(chain)}.jsonl: not checkpoint lines`;
  }
  const v = await verifyChain(parts.reader, chain, parts.checkpoints, parsed.manifest.publicKeyPem, start);
  if (v.bad !== null) return `${v.bad.where}: ${v.bad.why}`;
  if (v.head.seq !== seq || (seq > 0 && v.head.hash !== hash)) return `${log}/${encodeURIComponent(chain)}: ends at seq ${v.head.seq}, the manifest says ${seq}`;
  const newest = parts.checkpoints.reduce((m, cp) => Math.max(m, cp.seq), 0);
  if (seq > start.seq && newest !== seq) return `witness/${log}/${encodeURIComponent(chain)}.jsonl: the copied head (seq ${seq}) has no signed checkpoint`;
  return null;
}
