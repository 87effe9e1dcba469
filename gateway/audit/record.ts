import { hash } from 'node:crypto';

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
  return canonicalOf(r, r.instance, r.seq, r.prev);
}

function canonicalOf(r: AuditEntry, instance: string, seq: number, prev: string): string {
  // Built field by field (the same text JSON.stringify gives for this key order): this runs once
  // per record on the audit hot path, where building an object per record cost more than the hash.
  const j = JSON.stringify;
  return (
    `{"ts":${j(r.ts)},"requestId":${j(r.requestId)},"operationName":${j(r.operationName)},"operationHash":${j(r.operationHash)}` +
    `,"sub":${j(r.sub)},"agency":${j(r.agency)},"roles":${j(r.roles)},"purpose":${j(r.purpose)},"coordinate":${j(r.coordinate)}` +
    `,"dataset":${j(r.dataset)},"provider":${j(r.provider)},"class":${j(r.class)},"decision":${j(r.decision)},"reason":${j(r.reason)}` +
    `,"grantId":${j(r.grantId)},"entityKeys":${j(r.entityKeys)},"count":${j(r.count)},"instance":${j(instance)},"seq":${seq},"prev":"${prev}"}`
  );
}

export function hashOf(prev: string, canonicalText: string): string {
  return hash('sha256', prev + canonicalText, 'hex');
}

/** The stored line: the canonical text with the hash appended as the last field. */
export function chainLine(entry: AuditEntry, instance: string, seq: number, prev: string): { line: string; hash: string } {
  const text = canonicalOf(entry, instance, seq, prev);
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
