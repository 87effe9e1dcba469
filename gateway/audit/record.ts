import { createHash } from 'node:crypto';

/** One field coordinate read or denied by one request (CONTRACT §5). */
export interface AuditEntry {
  readonly ts: string;
  readonly requestId: string;
  readonly operationName: string | null;
  readonly operationHash: string;
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
  readonly purpose: string | null;
  readonly coordinate: string;
  readonly dataset: string | null;
  readonly provider: string | null;
  readonly class: string | null;
  readonly decision: 'ALLOW' | 'DENY';
  readonly reason: string | null;
  readonly grantId: string | null;
  readonly entityKeys: readonly string[];
  readonly count: number;
}

/** An entry placed in its instance's hash chain. */
export interface AuditRecord extends AuditEntry {
  readonly instance: string;
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

export const GENESIS = '0'.repeat(64);

/**
 * The canonical serialisation the hash covers: every field but `hash`, in this fixed order, as
 * compact JSON. Writing the line in the same order makes the stored line its own canonical form
 * plus the hash.
 */
export function canonical(r: Omit<AuditRecord, 'hash'>): string {
  return JSON.stringify({
    ts: r.ts,
    requestId: r.requestId,
    operationName: r.operationName,
    operationHash: r.operationHash,
    sub: r.sub,
    agency: r.agency,
    roles: r.roles,
    purpose: r.purpose,
    coordinate: r.coordinate,
    dataset: r.dataset,
    provider: r.provider,
    class: r.class,
    decision: r.decision,
    reason: r.reason,
    grantId: r.grantId,
    entityKeys: r.entityKeys,
    count: r.count,
    instance: r.instance,
    seq: r.seq,
    prev: r.prev,
  });
}

export function hashOf(prev: string, canonicalText: string): string {
  return createHash('sha256').update(prev).update(canonicalText).digest('hex');
}

/** The stored line: the canonical text with the hash appended as the last field. */
export function chainLine(entry: AuditEntry, instance: string, seq: number, prev: string): { line: string; hash: string } {
  const text = canonical({ ...entry, instance, seq, prev });
  const hash = hashOf(prev, text);
  return { line: `${text.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** Why a parsed record does not follow (prevHash, prevSeq), or null. */
export function chainProblem(r: AuditRecord, prevSeq: number, prevHash: string): string | null {
  if (r.seq !== prevSeq + 1) return `sequence gap: expected seq ${prevSeq + 1}, found ${r.seq}`;
  if (r.prev !== prevHash) return 'prev does not match the hash of the record before it (a record was removed, inserted or reordered)';
  if (hashOf(r.prev, canonical(r)) !== r.hash) return 'hash does not match the record (the record was edited)';
  return null;
}
