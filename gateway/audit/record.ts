import type { AuditEntry } from '../../common/access-record.ts';

export type { AuditEntry, AuditRecord } from '../../common/access-record.ts';

/** Hex characters of a record's salt: 128 random bits. */
export const SALT_HEX = 32;

const j = JSON.stringify;

/** The fields every record of one request repeats, up to and including `purpose`. */
function requestPart(r: AuditEntry): string {
  return `{"ts":${j(r.ts)},"requestId":${j(r.requestId)},"operationName":${j(r.operationName)},"operationHash":${j(r.operationHash)},"sub":${j(r.sub)},"agency":${j(r.agency)},"roles":${j(r.roles)},"purpose":${j(r.purpose)}`;
}

function sameRequest(a: AuditEntry, b: AuditEntry): boolean {
  return a.ts === b.ts && a.requestId === b.requestId && a.operationName === b.operationName && a.operationHash === b.operationHash && a.sub === b.sub && a.agency === b.agency && a.roles === b.roles && a.purpose === b.purpose;
}

function fieldPart(r: AuditEntry, salt: string | undefined): string {
  return (
    `,"coordinate":${j(r.coordinate)},"dataset":${j(r.dataset)},"provider":${j(r.provider)},"class":${j(r.class)},"decision":${j(r.decision)},"reason":${j(r.reason)}` +
    `,"grantId":${j(r.grantId)},"entityKeys":${j(r.entityKeys)},"count":${j(r.count)}${salt === undefined ? '' : `,"salt":"${salt}"`}}`
  );
}

/**
 * The record's body as the log stores it: every field in this fixed order, as compact JSON, then
 * the record's secret `salt` (docs/security.md, "Redaction that cannot be guessed"); the log
 * appends `instance`, `seq`, `prev` and `hash`. Built field by field (the same text
 * JSON.stringify gives for this key order): this runs once per record on the audit hot path,
 * where building an object per record cost more than the hash.
 */
export function auditBody(r: AuditEntry, salt?: string): string {
  return requestPart(r) + fieldPart(r, salt);
}

/**
 * The bodies of one request's records, the i-th salted with the i-th SALT_HEX characters of
 * `salts`: the same texts as auditBody, but the fields a request's records share (the same
 * values, the roles the same array) are serialised once, not once per field read.
 */
export function auditBodies(entries: readonly AuditEntry[], salts: string): string[] {
  const bodies = new Array<string>(entries.length);
  let shared: AuditEntry | null = null;
  let prefix = '';
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (shared === null || !sameRequest(shared, e)) {
      shared = e;
      prefix = requestPart(e);
    }
    bodies[i] = prefix + fieldPart(e, salts.slice(i * SALT_HEX, (i + 1) * SALT_HEX));
  }
  return bodies;
}
