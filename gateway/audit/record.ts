import type { AuditEntry } from '../../common/access-record.ts';

export type { AuditEntry, AuditRecord } from '../../common/access-record.ts';

/** Hex characters of a record's salt: 128 random bits. */
export const SALT_HEX = 32;

/**
 * The record's body as the log stores it: every field in this fixed order, as compact JSON, then
 * the record's secret `salt` (docs/security.md, "Redaction that cannot be guessed"); the log
 * appends `instance`, `seq`, `prev` and `hash`. Built field by field (the same text
 * JSON.stringify gives for this key order): this runs once per record on the audit hot path,
 * where building an object per record cost more than the hash.
 */
export function auditBody(r: AuditEntry, salt?: string): string {
  const j = JSON.stringify;
  return (
    `{"ts":${j(r.ts)},"requestId":${j(r.requestId)},"operationName":${j(r.operationName)},"operationHash":${j(r.operationHash)}` +
    `,"sub":${j(r.sub)},"agency":${j(r.agency)},"roles":${j(r.roles)},"purpose":${j(r.purpose)},"coordinate":${j(r.coordinate)}` +
    `,"dataset":${j(r.dataset)},"provider":${j(r.provider)},"class":${j(r.class)},"decision":${j(r.decision)},"reason":${j(r.reason)}` +
    `,"grantId":${j(r.grantId)},"entityKeys":${j(r.entityKeys)},"count":${j(r.count)}${salt === undefined ? '' : `,"salt":"${salt}"`}}`
  );
}
