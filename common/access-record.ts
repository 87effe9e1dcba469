import { normalisedEntityKey } from './entity-key.ts';

/** One field coordinate read or denied by one request: the access record every part reads and writes. */
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

/** An entry placed in its instance's hash chain (the chain fields the append-only log adds). */
export interface AuditRecord extends AuditEntry {
  /**
   * 128 random bits the chain hash covers, so that a record exported redacted (only its place in
   * the chain) cannot be recovered by hashing guesses of its content. Absent in records written
   * before salts were introduced.
   */
  readonly salt?: string;
  readonly instance: string;
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

/** What an auditor may ask of the access log, whichever store answers (the log or the archive). */
export interface AuditFilter {
  readonly agency?: string;
  readonly dataset?: string;
  readonly entityKey?: string;
  readonly coordinate?: string;
  readonly since?: string;
  readonly until?: string;
  readonly decision?: 'ALLOW' | 'DENY';
  /** An auditor's scope: only records where this agency is the consumer or the provider. */
  readonly party?: string;
}

/**
 * The filter as the stores compare it: an entity key in its one spelling (common/entity-key.ts),
 * so a look-up by `91445202ma4w3k7px2` finds the records of `91445202MA4W3K7PX2` and back.
 */
export function normalisedFilter(f: AuditFilter): AuditFilter {
  if (f.entityKey === undefined) return f;
  const entityKey = normalisedEntityKey(f.entityKey);
  return entityKey === f.entityKey ? f : { ...f, entityKey };
}
