import { cataloguedPurposes } from '../../common/catalogued-purposes.ts';
import { timeOf } from './policy-files.ts';

/** One grant line (p2) as the index holds it. */
interface GrantLine {
  readonly rule: readonly string[];
  readonly purpose: string;
  /** For purpose '*': the purposes the dataset's catalog entry lists (null: any). */
  readonly anyOf: readonly string[] | null;
  readonly from: number;
  readonly until: number;
}

interface AgreementLine {
  readonly rule: readonly string[];
  readonly dataset: string;
  readonly from: number;
  readonly until: number;
  readonly secrecyFiled: boolean;
}

interface SuspensionLine {
  readonly rule: readonly string[];
  readonly dataset: string;
  readonly from: number;
  readonly until: number;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function drop<T extends { rule: readonly string[] }>(map: Map<string, T[]>, key: string, rule: readonly string[]): void {
  const list = map.get(key);
  if (list === undefined) return;
  const kept = list.filter((l) => l.rule !== rule && l.rule.join('\u0000') !== rule.join('\u0000'));
  if (kept.length === 0) map.delete(key);
  else map.set(key, kept);
}

/**
 * The grant, agreement and suspension lines of the policy, indexed by key, and the lookups
 * model.conf's matcher calls (`grants.inForce(...)` ...). It holds exactly the lines the enforcer
 * holds: every line goes into both at once, so a lookup answers what a scan of the lines would,
 * without scanning 100,000 of them.
 */
export class PolicyIndex {
  private readonly grantLines = new Map<string, GrantLine[]>();
  private readonly agreementLines = new Map<string, AgreementLine[]>();
  private readonly suspensionLines = new Map<string, SuspensionLine[]>();

  add(ptype: 'p2' | 'p3' | 'p4', rule: readonly string[]): void {
    switch (ptype) {
      case 'p2': {
        const [, consumer, dataset, purpose, from, until] = rule as [string, string, string, string, string, string];
        push(this.grantLines, `${consumer}\u0000${dataset}`, { rule, purpose, anyOf: purpose === '*' ? cataloguedPurposes(dataset) : null, from: timeOf(from), until: timeOf(until) });
        return;
      }
      case 'p3': {
        const [, a, b, dataset, signedOn, until, filed] = rule as [string, string, string, string, string, string, string];
        push(this.agreementLines, pairKey(a, b), { rule, dataset, from: timeOf(signedOn), until: timeOf(until), secrecyFiled: filed === 'true' });
        return;
      }
      case 'p4': {
        const [agency, dataset, from, until] = rule as [string, string, string, string];
        push(this.suspensionLines, agency, { rule, dataset, from: timeOf(from), until: timeOf(until) });
        return;
      }
    }
  }

  remove(ptype: 'p2' | 'p3' | 'p4', rule: readonly string[]): void {
    switch (ptype) {
      case 'p2':
        return drop(this.grantLines, `${rule[1]}\u0000${rule[2]}`, rule);
      case 'p3':
        return drop(this.agreementLines, pairKey(rule[1]!, rule[2]!), rule);
      case 'p4':
        return drop(this.suspensionLines, rule[0]!, rule);
    }
  }

  private covering(agency: string, dataset: string, purpose: string): GrantLine[] {
    return (this.grantLines.get(`${agency}\u0000${dataset}`) ?? []).filter((g) => g.purpose === purpose || (g.purpose === '*' && (g.anyOf === null || g.anyOf.includes(purpose))));
  }

  /** The grant line in force for this read, if any (the one `grants.inForce` found). */
  grantInForce(agency: string, dataset: string, purpose: string, now: number): readonly string[] | undefined {
    return this.covering(agency, dataset, purpose).find((g) => now >= g.from && now < g.until)?.rule;
  }

  grantsFor(agency: string, dataset: string): readonly (readonly string[])[] {
    return (this.grantLines.get(`${agency}\u0000${dataset}`) ?? []).map((g) => g.rule);
  }

  agreementInForce(a: string, b: string, dataset: string, now: number, secret: boolean): readonly string[] | undefined {
    return (this.agreementLines.get(pairKey(a, b)) ?? []).find((l) => (l.dataset === '*' || l.dataset === dataset) && now >= l.from && now < l.until && (!secret || l.secrecyFiled))?.rule;
  }

  suspensionInForce(agency: string, dataset: string, now: number): readonly string[] | undefined {
    return (this.suspensionLines.get(agency) ?? []).find((l) => (l.dataset === '*' || l.dataset === dataset) && now >= l.from && now < l.until)?.rule;
  }

  /** The objects model.conf's matcher calls, by the names it uses. */
  matcherFunctions(): Record<'grants' | 'agreements' | 'suspensions', object> {
    return {
      grants: {
        exist: (agency: string, dataset: string): boolean => this.grantLines.has(`${agency}\u0000${dataset}`),
        cover: (agency: string, dataset: string, purpose: string): boolean => this.covering(agency, dataset, purpose).length > 0,
        inForce: (agency: string, dataset: string, purpose: string, now: number): boolean => this.grantInForce(agency, dataset, purpose, now) !== undefined,
      },
      agreements: {
        inForce: (a: string, b: string, dataset: string, now: number, secret: boolean): boolean => this.agreementInForce(a, b, dataset, now, secret) !== undefined,
      },
      suspensions: {
        inForce: (agency: string, dataset: string, now: number): boolean => this.suspensionInForce(agency, dataset, now) !== undefined,
      },
    };
  }

  /**
   * The window around `now` in which no grant, agreement or suspension starts or stops being in
   * force: within it, a decision made once holds.
   */
  window(now: number): { from: number; until: number } {
    let from = -Infinity;
    let until = Infinity;
    const see = (t: number): void => {
      if (t > now && t < until) until = t;
      if (t <= now && t > from) from = t;
    };
    for (const map of [this.grantLines, this.agreementLines, this.suspensionLines] as Map<string, { from: number; until: number }[]>[]) {
      for (const list of map.values()) {
        for (const l of list) {
          see(l.from);
          see(l.until);
        }
      }
    }
    return { from, until };
  }
}
