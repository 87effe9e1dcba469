/**
 * A policy revision a gateway installed (docs/policies.md): the authority's ledger keeps one record per
 * revision so that auditors can see when the rules changed, how, and where the change came from.
 */
export interface PolicyRevisionRecord {
  /** sha256 of the installed policy: model.conf and every line in force, in a canonical order. */
  readonly hash: string;
  /** The hash of the revision it replaced; null for the first one this gateway installed. */
  readonly previous: string | null;
  /** Lines as a maintainer writes them ("p2, g-1, tax, ..."); model.conf lines as "model.conf: m = ...". */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** 'file': POLICY_DIR; 'instance:<id>': adopted from another gateway; 'workflow': the authority's store. */
  readonly origin: 'file' | 'workflow' | `instance:${string}`;
  readonly at: string;
}
