import type { AuditEntry } from '../../common/access-record.ts';

/**
 * A deterministic access history for measuring and testing the archive: the same `i` always gives
 * the same record, spread over agencies, datasets, decisions, entity keys and months. The fields
 * are those of an access record, in the order the access log stores them.
 */
export type SeededAccess = AuditEntry;

const AGENCIES = ['amr', 'tax', 'hrss', 'eeb', 'psb', 'civil', 'itd'];
const FIELDS: readonly { coordinate: string; dataset: string; provider: string; class: string }[] = [
  { coordinate: 'Enterprise.name', dataset: 'amr.enterprise-registration', provider: 'amr', class: 'UNCONDITIONAL' },
  { coordinate: 'Enterprise.taxCreditGrade', dataset: 'tax.credit-rating', provider: 'tax', class: 'CONDITIONAL' },
  { coordinate: 'Enterprise.annualTaxPaid', dataset: 'tax.tax-payments', provider: 'tax', class: 'NOT_SHARED' },
  { coordinate: 'Enterprise.insuredEmployees', dataset: 'hrss.enterprise-insurance', provider: 'hrss', class: 'CONDITIONAL' },
  { coordinate: 'Enterprise.emissions', dataset: 'eeb.enterprise-emissions', provider: 'eeb', class: 'CONDITIONAL' },
  { coordinate: 'Person.name', dataset: 'psb.population-basic', provider: 'psb', class: 'CONDITIONAL' },
  { coordinate: 'Person.maritalStatus', dataset: 'civil.marriage-registration', provider: 'civil', class: 'CONDITIONAL' },
];
const PURPOSES = ['tax-collection', 'market-supervision', 'social-insurance-administration', null];

/** A small multiplicative hash: spreads i over the choices without Math.random. */
function pick(i: number, salt: number, n: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(salt, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return ((h ^ (h >>> 13)) >>> 0) % n;
}

/** The entity key of enterprise k: 18 characters like a USCC (the archive does not check them). */
export function seededEntityKey(k: number): string {
  return `9144520${String(k).padStart(10, '0')}X`;
}

/**
 * Record i of a history of `total` records from `start`, spread evenly over `spanDays`; entity
 * keys are drawn from `entities` keys, so each key has about total/entities records.
 */
export function seededAccess(i: number, opts: { total: number; start?: string; spanDays?: number; entities?: number }): SeededAccess {
  const start = Date.parse(opts.start ?? '2025-01-01T00:00:00.000Z');
  const span = (opts.spanDays ?? 365) * 86_400_000;
  const field = FIELDS[pick(i, 1, FIELDS.length)]!;
  const agency = AGENCIES[pick(i, 2, AGENCIES.length)]!;
  const deny = field.class === 'NOT_SHARED' ? agency !== field.provider : pick(i, 3, 5) === 0;
  const entities = opts.entities ?? Math.max(1, Math.floor(opts.total / 20));
  return {
    ts: new Date(start + Math.floor((i * span) / Math.max(1, opts.total))).toISOString(),
    requestId: `seed-${Math.floor(i / 3)}`,
    operationName: 'Seeded',
    operationHash: 'seed',
    sub: `${agency}-clerk`,
    agency,
    roles: [],
    purpose: PURPOSES[pick(i, 4, PURPOSES.length)]!,
    coordinate: field.coordinate,
    dataset: field.dataset,
    provider: field.provider,
    class: field.class,
    decision: deny ? 'DENY' : 'ALLOW',
    reason: deny ? (field.class === 'NOT_SHARED' ? 'NOT_SHARED' : 'GRANT_REQUIRED') : null,
    grantId: null,
    entityKeys: [seededEntityKey(pick(i, 5, entities))],
    count: deny ? 0 : 1,
  };
}
