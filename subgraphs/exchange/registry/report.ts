/**
 * What the check of a proposal reports (docs/registry.md), in the shape of the GraphQL
 * `CheckReport`: a proposal is approvable when none of the lists that block it has an entry.
 */
export interface SourceConflict {
  readonly item: string;
  readonly members: readonly string[];
  readonly message: string;
}

export interface ReaderCount {
  readonly agency: string;
  readonly reads: number;
}

export interface BreakingChange {
  readonly coordinate: string;
  readonly change: string;
  readonly grants: readonly string[];
  readonly readers: readonly ReaderCount[];
  readonly message: string;
}

export interface CatalogDiffEntry {
  readonly dataset: string;
  readonly field: string;
  readonly before: string | null;
  readonly after: string | null;
}

export interface CheckReport {
  readonly approvable: boolean;
  readonly compositionErrors: readonly string[];
  readonly undeclaredFields: readonly string[];
  readonly sources: readonly SourceConflict[];
  readonly guardrails: readonly string[];
  readonly breakingChanges: readonly BreakingChange[];
  readonly catalogDiff: readonly CatalogDiffEntry[];
  /** Where the readers of breaking changes were counted: "access log" or "archive". */
  readonly readsFrom: string;
}

/** The problems that keep a report from being approvable, one line each, for a refusal. */
export function blockingProblems(r: CheckReport): string[] {
  return [
    ...r.compositionErrors,
    ...r.undeclaredFields.map((c) => `${c} belongs to no dataset`),
    ...r.sources.map((s) => s.message),
    ...r.guardrails,
  ];
}
