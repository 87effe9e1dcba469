import { withinParty } from '../common/auditor-scope.ts';
import { normalisedFilter, type AuditFilter, type AuditRecord } from '../common/access-record.ts';

/** Whether an access record passes an auditor's filter (scope included), and paging over records; shared by the log's and the gateway's readers. */
export function matches(r: AuditRecord, f: AuditFilter): boolean {
  return (
    (f.agency === undefined || r.agency === f.agency) &&
    (f.dataset === undefined || r.dataset === f.dataset) &&
    (f.coordinate === undefined || r.coordinate === f.coordinate) &&
    (f.decision === undefined || r.decision === f.decision) &&
    (f.entityKey === undefined || r.entityKeys.includes(f.entityKey)) &&
    (f.since === undefined || r.ts >= f.since) &&
    (f.until === undefined || r.ts <= f.until) &&
    withinParty(r, f.party)
  );
}

/** A record's place in the (ts, instance, seq) order of pages; base64url-encoded, it is the cursor. */
export function cursorKey(r: AuditRecord): string {
  return `${r.ts}\u0000${r.instance}\u0000${String(r.seq).padStart(12, '0')}`;
}

/** Records in (ts, instance, seq) order after the cursor; the cursor is opaque to callers. */
export function filterRecords(all: readonly AuditRecord[], filter: AuditFilter, page: { first: number; after?: string }): { records: AuditRecord[]; next: string | null } {
  const key = cursorKey;
  const f = normalisedFilter(filter);
  const after = page.after === undefined ? null : Buffer.from(page.after, 'base64url').toString('utf8');
  const sorted = all.filter((r) => matches(r, f) && (after === null || key(r) > after)).sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const records = sorted.slice(0, page.first);
  const next = sorted.length > page.first ? Buffer.from(key(records[records.length - 1]!)).toString('base64url') : null;
  return { records, next };
}
