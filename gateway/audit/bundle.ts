import { linkProblem } from '../../ledger/log/chain.ts';
import { checkpointSigner, checkpointValid, readCheckpoints, type Checkpoint } from '../../ledger/log/witness.ts';
import type { AuditRecord } from './record.ts';

/**
 * An export for auditors: per instance, a contiguous run of records covering [since, until], the
 * signed checkpoints inside it, and a head checkpoint signed at export time over its last record.
 * Everything needed to verify it travels in the file: the records, the signatures, the public key.
 */
/**
 * A record outside the exporting auditor's scope (docs/audit.md): its place in the chain without
 * its content. The chain still links through it and the signed head still covers it, so the
 * records shown are provably the log's, and nothing between them can have been removed.
 */
export interface RedactedRecord {
  readonly redacted: true;
  readonly instance: string;
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

function isRedacted(r: AuditRecord | RedactedRecord): r is RedactedRecord {
  return 'redacted' in r && r.redacted === true;
}

export interface Bundle {
  readonly format: 'exchange-audit-bundle/1';
  readonly exportedAt: string;
  readonly since: string | null;
  readonly until: string | null;
  readonly publicKey: string;
  readonly instances: readonly { instance: string; records: (AuditRecord | RedactedRecord)[]; checkpoints: Checkpoint[]; head: Checkpoint }[];
}

/** `visible`: the exporting auditor's scope; records outside it are exported redacted. */
export function buildBundle(dataDir: string, all: readonly AuditRecord[], since: string | null, until: string | null, visible: (r: AuditRecord) => boolean = () => true): Bundle {
  const signer = checkpointSigner(dataDir);
  const byInstance = new Map<string, AuditRecord[]>();
  for (const r of all) {
    const list = byInstance.get(r.instance) ?? [];
    list.push(r);
    byInstance.set(r.instance, list);
  }
  const instances: Bundle['instances'][number][] = [];
  for (const [instance, list] of [...byInstance].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.seq - b.seq);
    // Contiguous by seq from the first record at/after since to the last at/before until.
    const first = list.findIndex((r) => since === null || r.ts >= since);
    let last = -1;
    for (let i = list.length - 1; i >= 0; i--) if (until === null || list[i]!.ts <= until) { last = i; break; }
    if (first < 0 || last < first) continue;
    const run = list.slice(first, last + 1);
    if (!run.some(visible)) continue;
    const records = run.map((r): AuditRecord | RedactedRecord => (visible(r) ? r : { redacted: true, instance: r.instance, seq: r.seq, prev: r.prev, hash: r.hash }));
    const lo = records[0]!.seq;
    const hi = records[records.length - 1]!.seq;
    const checkpoints = readCheckpoints(dataDir, 'audit', instance).filter((c) => c.seq >= lo && c.seq <= hi);
    const tail = records[records.length - 1]!;
    instances.push({ instance, records, checkpoints, head: signer.sign(instance, tail.seq, tail.hash) });
  }
  return { format: 'exchange-audit-bundle/1', exportedAt: new Date().toISOString(), since, until, publicKey: signer.publicKeyPem, instances };
}

/** Offline check of a bundle file; the first problem, or null. */
export function bundleProblem(bundle: Bundle, trustedPublicKey?: string): string | null {
  if (bundle.format !== 'exchange-audit-bundle/1') return `not an audit bundle (format ${JSON.stringify(bundle.format)})`;
  if (trustedPublicKey !== undefined && trustedPublicKey.trim() !== bundle.publicKey.trim()) return 'the bundle is signed by another key than the trusted one';
  for (const inst of bundle.instances) {
    const { records } = inst;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const prev = i === 0 ? { seq: r.seq - 1, hash: r.prev } : { seq: records[i - 1]!.seq, hash: records[i - 1]!.hash };
      const problem = isRedacted(r)
        ? r.seq !== prev.seq + 1 ? `sequence gap: expected seq ${prev.seq + 1}, found ${r.seq}` : r.prev !== prev.hash ? 'prev does not match the hash of the record before it' : null
        : // A parsed record serialises back to its stored line (same key order, same escaping).
          linkProblem(JSON.stringify(r), inst.instance, prev);
      if (problem !== null) return `${inst.instance} seq ${r.seq}: ${problem}`;
    }
    const bySeq = new Map(records.map((r) => [r.seq, r.hash]));
    for (const c of [...inst.checkpoints, inst.head]) {
      if (!checkpointValid(c, bundle.publicKey)) return `${inst.instance}: checkpoint at seq ${c.seq} has a bad signature`;
      if (bySeq.get(c.seq) !== c.hash) return `${inst.instance}: checkpoint at seq ${c.seq} does not match the record's hash`;
    }
    if (records.length > 0 && inst.head.seq !== records[records.length - 1]!.seq) return `${inst.instance}: the signed head does not cover the last record`;
  }
  return null;
}
