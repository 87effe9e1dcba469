import { linkProblem } from '../../ledger/log/chain.ts';
import { checkpointSigner, checkpointValid, readCheckpoints, type Checkpoint } from '../../ledger/log/witness.ts';
import type { AuditRecord } from './record.ts';

/**
 * An export for auditors: per instance, a contiguous run of records covering [since, until], the
 * signed checkpoints inside it, and a head checkpoint signed at export time over its last record.
 * Everything needed to verify it travels in the file: the records, the signatures, the public key.
 */
export interface Bundle {
  readonly format: 'exchange-audit-bundle/1';
  readonly exportedAt: string;
  readonly since: string | null;
  readonly until: string | null;
  readonly publicKey: string;
  readonly instances: readonly { instance: string; records: AuditRecord[]; checkpoints: Checkpoint[]; head: Checkpoint }[];
}

export function buildBundle(dataDir: string, all: readonly AuditRecord[], since: string | null, until: string | null): Bundle {
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
    const records = list.slice(first, last + 1);
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
      // A parsed record serialises back to its stored line (same key order, same escaping).
      const problem = linkProblem(JSON.stringify(r), inst.instance, prev);
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
