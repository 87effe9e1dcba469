import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { LogReader } from '../log/log.ts';
import { verifyChain } from '../log/verify.ts';
import { checkpointValid, LOG_KEY_FILE, type Checkpoint } from '../log/witness.ts';
import { GENESIS, type ChainHead, type LogRecord } from '../log/chain.ts';
import { tailOf } from '../log/file-log.ts';
import { archiveOfBuffer, safeRelative, sealChain, sha256, type Archive, type ChainEntry } from './archive.ts';
import { bodyKey, openBody, unpackKeys, unseal, WrongBackupKeyError } from './seal.ts';

export interface CheckOptions {
  /**
   * Opens the encrypted bodies (so the chains are checked) and the sealed keys (and so checks the
   * archive was signed by the key it holds). Without it only the signature and every stored
   * byte's SHA-256 are checked.
   */
  readonly backupKey: string | null;
  /** Open the sealed keys too (default true); a lineage opens only its newest archive's. */
  readonly openKeys?: boolean;
  /** This exchange's log key, when known (a running DATA_DIR): the archive must be signed with it. */
  readonly trustedPublicKeyPem: string | null;
}

export type Checked =
  | {
      readonly ok: true;
      /** The archive as its contents read: bodies decrypted when the archive is encrypted and could be opened. */
      readonly archive: Archive;
      /** False when the bodies are encrypted and BACKUP_KEY was not given: the chains were not checked. */
      readonly opened: boolean;
      readonly records: number;
      readonly keys: ReadonlyMap<string, Buffer> | null;
      readonly notes: readonly string[];
    }
  | { readonly ok: false; readonly problem: string; readonly wrongKey: boolean };

const bad = (problem: string, wrongKey = false): Checked => ({ ok: false, problem, wrongKey });

/**
 * Everything a restore relies on, checked before anything is written: the seal over the manifest,
 * every file's size and SHA-256, every chain linking up to its head and agreeing with its signed
 * checkpoints, and the sealed keys opening with BACKUP_KEY and holding the key that signed.
 * The first problem is returned in one line naming the file.
 */
export async function checkArchive(input: Buffer | Archive, opts: CheckOptions): Promise<Checked> {
  const archive = Buffer.isBuffer(input) ? archiveOfBuffer(input) : input;
  if (typeof archive === 'string') return bad(archive);
  const { manifest, seal, manifestText } = archive.header;
  if (seal.instance !== sealChain(manifest.id) || seal.hash !== sha256(manifestText) || seal.seq !== manifest.files.length || !checkpointValid(seal, manifest.publicKeyPem)) {
    return bad('manifest: its signature does not verify (the manifest or its seal was edited)');
  }
  if (opts.trustedPublicKeyPem !== null && opts.trustedPublicKeyPem.trim() !== manifest.publicKeyPem.trim()) {
    return bad("manifest: signed with a different log key than this exchange's (an archive of another exchange, or forged)");
  }
  for (const [i, f] of manifest.files.entries()) {
    if (!safeRelative(f.path)) return bad(`${f.path}: not a relative path inside the archive's directories`);
    const body = await archive.body(i);
    if (body.length < f.bytes) return bad(`${f.path}: missing or cut short (${body.length} of ${f.bytes} bytes present)`);
    if (sha256(body) !== f.sha256) return bad(`${f.path}: SHA-256 does not match the manifest (the file is damaged)`);
  }
  if (archive.trailing !== 0) return bad(`archive: ${archive.trailing} unexpected byte(s) after the last listed file`);

  const notes: string[] = [];
  if (manifest.encryption !== undefined && opts.backupKey === null) {
    notes.push('contents not opened: the archive is encrypted and BACKUP_KEY is not set (signature and every stored byte checked, chains not)');
    const claimed = manifest.chains.reduce((n, c) => n + c.seq - (c.from ?? 0), 0);
    return { ok: true, archive, opened: false, records: claimed, keys: null, notes };
  }
  const contents = manifest.encryption === undefined ? archive : decrypting(archive, bodyKey(manifest.encryption, opts.backupKey!));

  let records = 0;
  try {
    for (const c of manifest.chains) {
      const problem = await chainProblem(contents, c);
      if (problem !== null) return bad(problem);
      records += c.seq - (c.from ?? 0);
    }
    if (manifest.encryption !== undefined && manifest.files.length > 0) await contents.body(0);
  } catch (e) {
    if (e instanceof WrongBackupKeyError) return bad(`archive: ${e.message}`, true);
    throw e;
  }

  let keys: Map<string, Buffer> | null = null;
  const keysAt = manifest.files.findIndex((f) => f.kind === 'keys');
  if (manifest.keys === null || keysAt < 0) notes.push('the archive holds no keys (made with --without-keys)');
  else if (opts.openKeys === false) {
    // A base of a lineage: its keys are not the ones a restore uses.
  } else if (opts.backupKey === null) notes.push('keys not opened: BACKUP_KEY is not set');
  else {
    try {
      keys = unpackKeys(unseal(await contents.body(keysAt), manifest.keys, opts.backupKey));
    } catch (e) {
      if (e instanceof WrongBackupKeyError) return bad(`${manifest.files[keysAt]!.path}: ${e.message}`, true);
      throw e;
    }
    const logKey = keys.get(LOG_KEY_FILE);
    if (logKey === undefined || publicOf(logKey) !== manifest.publicKeyPem.trim()) return bad(`${manifest.files[keysAt]!.path}: the sealed keys do not hold the log key that signed the archive`);
  }
  return { ok: true, archive: contents, opened: true, records, keys, notes };
}

/** The archive with each body decrypted as it is read. */
function decrypting(archive: Archive, key: Buffer): Archive {
  return { header: archive.header, trailing: archive.trailing, body: async (i) => openBody(await archive.body(i), key) };
}

function publicOf(privatePem: Buffer): string {
  try {
    return createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString().trim();
  } catch {
    return '';
  }
}

/**
 * The chain's checkpoints as the archive holds them, and a reader of its records that loads one
 * segment body at a time (records are read in order: by verifyChain, and by a restore).
 */
export async function chainParts(archive: Archive, log: string, chain: string): Promise<{ reader: LogReader; checkpoints: Checkpoint[] }> {
  const enc = encodeURIComponent(chain);
  const files = archive.header.manifest.files;
  const segments = [...files.entries()].filter(([, f]) => f.kind === 'segment' && f.path.startsWith(`${log}/${enc}/`)).map(([i]) => i);
  const witnessAt = files.findIndex((f) => f.kind === 'witness' && f.path === `witness/${log}/${enc}.jsonl`);
  const checkpoints = witnessAt < 0 ? [] : (await archive.body(witnessAt)).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Checkpoint);
  let next = 0;
  let lines: { line: string; where: string }[] = [];
  let pos = 0;
  let lastSeq = 0;
  const reader: LogReader = {
    kind: 'file',
    log,
    chains: () => Promise.resolve([chain]),
    async read(_chain, after, limit) {
      const out: LogRecord[] = [];
      while (out.length < limit) {
        if (pos >= lines.length) {
          if (next >= segments.length) break;
          const i = segments[next++]!;
          lines = (await archive.body(i)).toString('utf8').split('\n').slice(0, -1).map((line, n) => ({ line, where: `${files[i]!.path}:${n + 1}` }));
          pos = 0;
          continue;
        }
        const r = lines[pos++]!;
        const t = tailOf(r.line);
        const seq = t?.seq ?? lastSeq + 1;
        lastSeq = seq;
        if (seq > after) out.push({ chain, seq, hash: t?.hash ?? '', line: r.line, where: r.where });
      }
      return out;
    },
    watch: () => () => undefined,
    close: () => Promise.resolve(),
  };
  return { reader, checkpoints };
}

/** Whether a chain's records in the archive link from where it starts to the head the manifest names. */
async function chainProblem(archive: Archive, c: ChainEntry): Promise<string | null> {
  const { log, chain, seq, hash } = c;
  const start: ChainHead = { seq: c.from ?? 0, hash: c.fromHash ?? GENESIS };
  let parts;
  try {
    parts = await chainParts(archive, log, chain);
  } catch (e) {
    if (e instanceof WrongBackupKeyError) throw e;
    return `witness/${log}/${encodeURIComponent(chain)}.jsonl: not checkpoint lines`;
  }
  const v = await verifyChain(parts.reader, chain, parts.checkpoints, archive.header.manifest.publicKeyPem, start);
  if (v.bad !== null) return `${v.bad.where}: ${v.bad.why}`;
  if (v.head.seq !== seq || (seq > 0 && v.head.hash !== hash)) return `${log}/${encodeURIComponent(chain)}: ends at seq ${v.head.seq}, the manifest says ${seq}`;
  const newest = parts.checkpoints.reduce((m, cp) => Math.max(m, cp.seq), 0);
  if (seq > start.seq && newest !== seq) return `witness/${log}/${encodeURIComponent(chain)}.jsonl: the copied head (seq ${seq}) has no signed checkpoint`;
  return null;
}
