import type { GrantChange, GrantSnapshot } from '../../ledger/grants.ts';
import type { SharingEnforcer } from './enforcer.ts';
import {
  agreementRules,
  agreementVerdict,
  grantRules,
  grantVerdict,
  lineText,
  suspensionRules,
  suspensionVerdict,
  type LineVerdict,
  type SourcedRule,
} from './policy-files.ts';
import type { MemberDirectory } from '../../ledger/members.ts';
import type { Catalog } from './types.ts';

export type StoreType = 'p2' | 'p3' | 'p4';

/** Where a line came from, for `explain`: "policies/grants.csv:9", or "grant g-1 (sharing request r-1)". */
export type Sources = Map<readonly string[], SourcedRule>;

/** The lines one grant, agreement or suspension of the authority's store stands for, or why they are refused. */
export interface StoreEntry {
  readonly ptype: StoreType;
  readonly id: string;
  readonly rules: string[][];
  readonly label: string;
  readonly verdict: LineVerdict;
}

function firstVerdict(verdicts: LineVerdict[]): LineVerdict {
  return verdicts.find((v) => v !== null && 'refuse' in v) ?? verdicts.find((v) => v !== null) ?? null;
}

export function storeEntry(catalog: Catalog, members: MemberDirectory, change: GrantChange): StoreEntry | null {
  switch (change.op) {
    case 'grant': {
      const g = change.grant;
      const rules = grantRules(g);
      return { ptype: 'p2', id: g.id, rules, label: `grant ${g.id}${g.requestId ? ` (sharing request ${g.requestId})` : ''}`, verdict: firstVerdict(rules.map((r) => grantVerdict(catalog, members, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!))) };
    }
    case 'agreement': {
      const a = change.agreement;
      const rules = agreementRules(a);
      return { ptype: 'p3', id: a.id, rules, label: `agreement ${a.id} (${a.documentRef})`, verdict: firstVerdict(rules.map((r) => agreementVerdict(catalog, members, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!))) };
    }
    case 'suspension': {
      const s = change.suspension;
      const rules = suspensionRules(s);
      return { ptype: 'p4', id: s.id, rules, label: `suspension ${s.id} by the authority`, verdict: firstVerdict(rules.map((r) => suspensionVerdict(catalog, members, r[0]!, r[1]!, r[2]!, r[3]!, r[4]!))) };
    }
    case 'policy':
    case 'revoke-grant':
    case 'revoke-agreement':
    case 'lift-suspension':
      return null;
  }
}

/** Every grant, agreement and suspension of a snapshot, as changes that add them. */
export function snapshotChanges(snap: GrantSnapshot): GrantChange[] {
  return [
    ...[...snap.grants.values()].map((grant): GrantChange => ({ op: 'grant', grant })),
    ...[...snap.agreements.values()].map((agreement): GrantChange => ({ op: 'agreement', agreement })),
    ...[...(snap.suspensions?.values() ?? [])].map((suspension): GrantChange => ({ op: 'suspension', suspension })),
  ];
}

export function verdictText(entry: StoreEntry): string {
  const v = entry.verdict;
  return v === null ? '' : 'refuse' in v ? `refused: ${v.refuse}` : `ignored: ${v.ignore}`;
}

/**
 * The lines of the authority's store in force in the enforcer, by the id of the grant, agreement
 * or suspension they stand for, so that one ending removes exactly its lines.
 */
export class StoreLines {
  private readonly byType: Record<StoreType, Map<string, string[][]>> = { p2: new Map(), p3: new Map(), p4: new Map() };

  clear(): void {
    for (const m of Object.values(this.byType)) m.clear();
  }

  has(ptype: StoreType, id: string): boolean {
    return this.byType[ptype].has(id);
  }

  set(entry: StoreEntry): void {
    this.byType[entry.ptype].set(entry.id, entry.rules);
  }

  /** Every line, as a maintainer writes it (for the revision record). */
  texts(): string[] {
    const out: string[] = [];
    for (const ptype of ['p2', 'p3', 'p4'] as const) for (const rules of this.byType[ptype].values()) for (const r of rules) out.push(lineText(ptype, r));
    return out;
  }

  /** Adds an entry's lines to the enforcer, replacing the lines of the same id. */
  async apply(enforcer: SharingEnforcer, sources: Sources, entry: StoreEntry): Promise<void> {
    await this.remove(enforcer, sources, entry.ptype, entry.id);
    this.set(entry);
    await enforcer.add(entry.ptype, entry.rules);
    for (const r of entry.rules) sources.set(r, storeSource(entry.ptype, entry.label));
  }

  async remove(enforcer: SharingEnforcer, sources: Sources, ptype: StoreType, id: string): Promise<void> {
    const old = this.byType[ptype].get(id);
    if (old === undefined) return;
    this.byType[ptype].delete(id);
    await enforcer.remove(ptype, old);
    for (const r of old) sources.delete(r);
  }
}

export function storeSource(ptype: StoreType, label: string): SourcedRule {
  return { ptype, rule: [], file: label, line: 0 };
}
