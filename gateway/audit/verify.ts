import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { instancesOf, segmentsOf } from './file-store.ts';
import { chainProblem, GENESIS, type AuditRecord } from './record.ts';

export interface BadRecord {
  readonly instance: string;
  readonly seq: number | null;
  /** file:line for the file store, stream position for Redis. */
  readonly where: string;
  readonly why: string;
}

export interface Verification {
  readonly ok: boolean;
  readonly records: number;
  readonly instances: number;
  readonly firstBad: BadRecord | null;
  /** Torn tails set aside by a restart after a crash (never acknowledged records). */
  readonly notes: readonly string[];
}

/** Checks one instance's records in order; returns the first break. */
export function verifyChain(instance: string, records: Iterable<{ record: AuditRecord | null; where: string; raw?: string }>): { count: number; bad: BadRecord | null } {
  let prevSeq = 0;
  let prevHash = GENESIS;
  let count = 0;
  for (const { record, where } of records) {
    if (record === null) return { count, bad: { instance, seq: null, where, why: 'not a JSON record (torn or corrupted line)' } };
    if (record.instance !== instance) return { count, bad: { instance, seq: record.seq, where, why: `record belongs to instance ${record.instance}` } };
    const problem = chainProblem(record, prevSeq, prevHash);
    if (problem !== null) return { count, bad: { instance, seq: record.seq, where, why: problem } };
    prevSeq = record.seq;
    prevHash = record.hash;
    count++;
  }
  return { count, bad: null };
}

function* fileRecords(dir: string, root: string): Generator<{ record: AuditRecord | null; where: string }> {
  for (const seg of segmentsOf(dir)) {
    const file = path.join(dir, seg);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '' && i === lines.length - 1) continue;
      let record: AuditRecord | null;
      try {
        record = JSON.parse(line) as AuditRecord;
      } catch {
        record = null;
      }
      yield { record, where: `${path.relative(root, file)}:${i + 1}` };
    }
  }
}

/** Verifies every instance's chain under DATA_DIR/audit. */
export function verifyFileStore(dataDir: string): Verification {
  const auditDir = path.join(dataDir, 'audit');
  let records = 0;
  const notes: string[] = [];
  const instances = instancesOf(auditDir);
  for (const inst of instances) {
    const dir = path.join(auditDir, inst);
    for (const f of existsSync(dir) ? readdirSync(dir) : []) {
      if (f.includes('.torn-')) notes.push(`${inst}/${f}: a torn final line set aside at restart after a crash (never acknowledged)`);
    }
    const { count, bad } = verifyChain(inst, fileRecords(dir, auditDir));
    records += count;
    if (bad !== null) return { ok: false, records, instances: instances.length, firstBad: bad, notes };
  }
  return { ok: true, records, instances: instances.length, firstBad: null, notes };
}

/** Verifies the Redis stream: each instance's records in stream order. */
export function verifyRecords(all: readonly AuditRecord[]): Verification {
  const byInstance = new Map<string, { record: AuditRecord; where: string }[]>();
  all.forEach((r, i) => {
    const list = byInstance.get(r.instance) ?? [];
    list.push({ record: r, where: `stream entry ${i + 1}` });
    byInstance.set(r.instance, list);
  });
  let records = 0;
  for (const [inst, list] of byInstance) {
    const { count, bad } = verifyChain(inst, list);
    records += count;
    if (bad !== null) return { ok: false, records, instances: byInstance.size, firstBad: bad, notes: [] };
  }
  return { ok: true, records, instances: byInstance.size, firstBad: null, notes: [] };
}
