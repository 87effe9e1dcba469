import { newEnforcer, newModel, type Enforcer, type MatchingFunction } from 'casbin';
import type { CataloguedEntries } from '../../common/catalogued-purposes.ts';
import { PolicyIndex } from './policy-index.ts';
import type { PolicyType } from './policy-files.ts';

/** The request of model.conf: `r = sub, obj, now`. */
export interface RequestSubject {
  readonly agency: string;
  /** '' when no purpose was declared */
  readonly purpose: string;
  /** the roles of the reader's token */
  readonly roles: readonly string[];
}

export interface RequestObject {
  /** the field read, "Type.field" */
  readonly coordinate: string;
  /** dataset id; '' for a field outside every dataset */
  readonly id: string;
  readonly provider: string;
  /** the dataset's sharing class, or KEY (an entity key field) / UNCLASSIFIED */
  readonly class: string;
  /** '' when none */
  readonly sensitivity: string;
  /** the operator's UNCLASSIFIED_FIELDS */
  readonly unclassified: 'deny' | 'allow';
}

/** The request classes: the catalog's sharing classes and the two kinds of uncatalogued field. */
const REQUEST_CLASSES = ['UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED', 'KEY', 'UNCLASSIFIED'] as const;

export interface SharingEnforcer {
  /** Every policy line (rules, grants, agreements, suspensions) as Casbin holds it. */
  readonly casbin: Enforcer;
  readonly index: PolicyIndex;
  /**
   * Casbin's decision: allowed, and the rule line (class, reason, effect) that decided; [] when no
   * rule held (denied).
   */
  enforce(sub: RequestSubject, obj: RequestObject, now: number): [boolean, readonly string[]];
  add(ptype: Exclude<PolicyType, 'p'>, rules: readonly (readonly string[])[]): Promise<void>;
  remove(ptype: Exclude<PolicyType, 'p'>, rules: readonly (readonly string[])[]): Promise<void>;
}

/**
 * Builds the enforcer of a policy: model.conf over its lines. Decision rules (p) are also held by
 * one small enforcer per request class, each with the rules of that class or `*` in the same order:
 * a rule for another class can never hold (the matcher checks `p.class`), so each answers exactly
 * as the whole enforcer would, without trying lines that cannot apply.
 */
export async function buildEnforcer(modelText: string, rules: readonly { ptype: PolicyType; rule: readonly string[] }[], entries?: CataloguedEntries): Promise<SharingEnforcer> {
  const index = new PolicyIndex(entries);
  const functions = index.matcherFunctions();
  const open = async (): Promise<Enforcer> => {
    const e = await newEnforcer(newModel(modelText));
    // The matcher calls methods of these objects (`grants.inForce(...)`); Casbin passes any value through.
    for (const [name, fn] of Object.entries(functions)) await e.addFunction(name, fn as MatchingFunction);
    return e;
  };
  const casbin = await open();
  const byType: Record<PolicyType, string[][]> = { p: [], p2: [], p3: [], p4: [], p5: [] };
  for (const r of rules) {
    // Casbin keeps the arrays as given and never changes them.
    byType[r.ptype].push(r.rule as string[]);
    if (r.ptype !== 'p') index.add(r.ptype, r.rule);
  }
  for (const ptype of ['p', 'p2', 'p3', 'p4', 'p5'] as const) {
    if (byType[ptype].length > 0) casbin.getModel().addPolicies('p', ptype, byType[ptype]);
  }
  const partitions = new Map<string, Enforcer>();
  for (const cls of REQUEST_CLASSES) {
    const e = await open();
    const own = byType.p.filter((r) => r[0] === '*' || r[0] === cls);
    if (own.length > 0) e.getModel().addPolicies('p', 'p', own);
    partitions.set(cls, e);
  }
  return {
    casbin,
    index,
    enforce(sub, obj, now) {
      return (partitions.get(obj.class) ?? casbin).enforceExSync(sub, obj, now);
    },
    async add(ptype, lines) {
      if (lines.length === 0) return;
      await casbin.addNamedPolicies(ptype, lines as string[][]);
      for (const l of lines) index.add(ptype, l);
    },
    async remove(ptype, lines) {
      if (lines.length === 0) return;
      await casbin.removeNamedPolicies(ptype, lines as string[][]);
      for (const l of lines) index.remove(ptype, l);
    },
  };
}
