/** Vocabulary of sharing decisions (docs/contract.md: ). */

import type { CataloguedEntries } from '../../common/catalogued-purposes.ts';
import type { Sensitivity, SharingClass } from '../../common/declarations.ts';

export { SENSITIVITIES, SHARING_CLASSES, type Sensitivity, type SharingClass } from '../../common/declarations.ts';

/**
 * Reasons of a denial. All but UNPUBLISHED are names of decision rules in the policy (rules.csv),
 * ROLE_REQUIRED included (a field reserved to a role, policies/roles.csv);
 * UNPUBLISHED depends on the data (which totals are confirmed) and is decided where it is resolved.
 */
export const DENY_REASONS = [
  'NOT_SHARED',
  'NOT_CATALOGUED',
  'PURPOSE_REQUIRED',
  'GRANT_REQUIRED',
  'PURPOSE_MISMATCH',
  'GRANT_EXPIRED',
  'AGREEMENT_REQUIRED',
  'UNPUBLISHED',
  'SUSPENDED',
  'ROLE_REQUIRED',
] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export const ALLOW_REASONS = ['PROVIDER', 'UNCONDITIONAL', 'GRANT', 'UNCLASSIFIED_ALLOWED', 'KEY_FIELD'] as const;
export type AllowReason = (typeof ALLOW_REASONS)[number];

/** One catalogued dataset, as declared by `@dataset` in the supergraph. */
export interface Dataset {
  readonly id: string; // e.g. "tax.credit-rating"
  readonly provider: string; // agency code, the prefix of id
  readonly class: SharingClass;
  readonly sensitivity: Sensitivity | null;
  readonly coordinates: readonly string[]; // "Enterprise.taxCreditGrade", ...
}

/** The catalog the gateway reads from the supergraph: coordinate -> dataset. */
export interface Catalog {
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly byCoordinate: ReadonlyMap<string, Dataset>;
  /** "Enterprise" -> ["uscc"]: fields of each entity type's @key, always readable. */
  readonly keyFields: ReadonlyMap<string, readonly string[]>;
  /** "Book" -> [["id"], ["upc"]]: each `@key` of a type on its own; any one identifies an entity. */
  readonly keySets: ReadonlyMap<string, readonly (readonly string[])[]>;
  /**
   * The catalog entries whose purposes bind grant lines: a published version's own;
   * absent, the reference entries (schema/catalog/datasets.json).
   */
  readonly entries?: CataloguedEntries;
}

export interface Caller {
  readonly sub: string;
  readonly agency: string;
  readonly roles: readonly string[];
  /** The x-purpose header, already checked against the purpose codes; null when absent. */
  readonly purpose: string | null;
}

export type Decision =
  | { readonly effect: 'ALLOW'; readonly reason: AllowReason; readonly dataset: Dataset | null; readonly grantId: string | null }
  | { readonly effect: 'DENY'; readonly reason: DenyReason; readonly dataset: Dataset | null; readonly remedy: string };
