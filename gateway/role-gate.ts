import type { Caller, Decision } from './sharing/types.ts';

/**
 * Datasets reserved to a role whatever their sharing class: the access log is read by auditors
 * only (docs/audit.md). Checked by the gateway before planning, so a refused read of the log is
 * decided, answered FORBIDDEN and audited like any other denial. This sits beside the sharing
 * policy rather than in it: roles are not part of the Casbin model.
 */
const ROLE_DATASETS: Readonly<Record<string, string>> = { 'itd.audit-log': 'auditor' };

export function roleGate(caller: Caller, decision: Decision): Decision {
  const dataset = decision.dataset;
  if (dataset === null || !Object.hasOwn(ROLE_DATASETS, dataset.id)) return decision;
  const role = ROLE_DATASETS[dataset.id]!;
  if (caller.roles.includes(role)) return decision;
  return { effect: 'DENY', reason: 'ROLE_REQUIRED', dataset, remedy: `Reading ${dataset.id} needs role ${role}: ask your agency for a token with that role.` };
}
