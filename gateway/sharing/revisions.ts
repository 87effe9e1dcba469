import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { PolicyTexts } from './policy-files.ts';

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

/** Equal texts, equal id: a revision an instance already runs is never rebuilt. */
export function revisionId(texts: PolicyTexts): string {
  const h = createHash('sha256');
  for (const name of Object.keys(texts).sort()) h.update(name).update('\u0000').update(texts[name]!).update('\u0000');
  return h.digest('hex');
}

/** The newest modification time among a policy directory's files, or 0. */
export function newestChange(dir: string, texts: PolicyTexts): number {
  let newest = 0;
  for (const name of Object.keys(texts)) newest = Math.max(newest, statSync(path.join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return newest;
}

/** The model's statements without comments, as revision lines. */
export function modelLines(modelText: string): string[] {
  return modelText
    .split('\n')
    .map((l) => l.replace(/[#;].*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => `model.conf: ${l}`);
}

/**
 * The revision on record: every line in force and the model, hashed in a canonical order. Tells
 * `onRevision` of each new one with the lines added and removed since the last; an unchanged
 * policy (the same lines again) is not a revision.
 */
export class RevisionTracker {
  private recorded: { hash: string; lines: Set<string> } | null = null;

  constructor(
    private readonly onRevision: ((rev: PolicyRevisionRecord) => void) | undefined,
    private readonly clock: () => number,
    private readonly log: (line: string) => void,
  ) {}

  record(origin: PolicyRevisionRecord['origin'], lines: () => Set<string>): void {
    if (this.onRevision === undefined) return;
    const now = lines();
    const hash = createHash('sha256').update([...now].sort().join('\n')).digest('hex');
    if (this.recorded?.hash === hash) return;
    const before = this.recorded?.lines ?? new Set<string>();
    const rev: PolicyRevisionRecord = {
      hash,
      previous: this.recorded?.hash ?? null,
      added: [...now].filter((l) => !before.has(l)),
      removed: [...before].filter((l) => !now.has(l)),
      origin,
      at: new Date(this.clock()).toISOString(),
    };
    this.recorded = { hash, lines: now };
    try {
      this.onRevision(rev);
    } catch (e) {
      this.log(`policy: the revision record could not be handed on: ${(e as Error).message}`);
    }
  }
}
