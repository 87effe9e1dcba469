import { cataloguedPurposes, type CataloguedEntries } from '../../common/catalogued-purposes.ts';
import { timeOf } from './policy-files.ts';

/** One grant line (p2) as the index holds it. */
interface GrantLine {
  readonly rule: readonly string[];
  readonly from: number;
  readonly until: number;
}

/**
 * The grant lines of one (consumer, dataset, purpose), with the union of their validity as sorted,
 * disjoint spans, computed when first asked after a change: "in force at t" is a binary search.
 */
class GrantBucket {
  readonly lines: GrantLine[] = [];
  /** The lines by valid-from, and the union of their validity as sorted, disjoint spans. */
  private sorted: { lines: GrantLine[]; spans: number[] } | null = null;

  add(line: GrantLine): void {
    this.lines.push(line);
    this.sorted = null;
  }

  remove(rule: readonly string[]): void {
    const i = this.lines.findIndex((l) => l.rule === rule || l.rule.join('\u0000') === rule.join('\u0000'));
    if (i >= 0) this.lines.splice(i, 1);
    this.sorted = null;
  }

  inForce(now: number): boolean {
    const { spans } = this.order();
    const found = lastAtOrBefore(spans.length / 2, (i) => spans[i * 2]!, now);
    return found >= 0 && now < spans[found * 2 + 1]!;
  }

  /** A line in force at `now`: of the lines started by then, the latest-starting one that has not ended. */
  lineAt(now: number): GrantLine | undefined {
    const { lines } = this.order();
    for (let i = lastAtOrBefore(lines.length, (k) => lines[k]!.from, now); i >= 0; i--) {
      if (now < lines[i]!.until) return lines[i];
    }
    return undefined;
  }

  private order(): { lines: GrantLine[]; spans: number[] } {
    if (this.sorted === null) {
      const lines = [...this.lines].sort((a, b) => a.from - b.from);
      const spans: number[] = [];
      for (const l of lines) {
        if (spans.length > 0 && l.from <= spans[spans.length - 1]!) spans[spans.length - 1] = Math.max(spans[spans.length - 1]!, l.until);
        else spans.push(l.from, l.until);
      }
      this.sorted = { lines, spans };
    }
    return this.sorted;
  }
}

/** The last index i < n whose key(i) <= at (keys ascending), or -1. */
function lastAtOrBefore(n: number, key: (i: number) => number, at: number): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(mid) <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The grants of one (consumer, dataset), by purpose ('*' for lines naming every catalogued purpose). */
class GrantsOf {
  readonly byPurpose = new Map<string, GrantBucket>();
  count = 0;
  constructor(private readonly catalogued: readonly string[] | null) {}

  /** The buckets that can cover `purpose`: its own, and '*' when the catalog lists the purpose. */
  buckets(purpose: string): GrantBucket[] {
    const out: GrantBucket[] = [];
    const own = this.own(purpose);
    if (own !== undefined) out.push(own);
    const star = this.star(purpose);
    if (star !== undefined) out.push(star);
    return out;
  }

  /** Whether some line covers `purpose` (on the decision path: no array built). */
  covers(purpose: string): boolean {
    return this.own(purpose) !== undefined || this.star(purpose) !== undefined;
  }

  inForce(purpose: string, now: number): boolean {
    return this.own(purpose)?.inForce(now) === true || this.star(purpose)?.inForce(now) === true;
  }

  private own(purpose: string): GrantBucket | undefined {
    const own = this.byPurpose.get(purpose);
    return own !== undefined && own.lines.length > 0 ? own : undefined;
  }

  private star(purpose: string): GrantBucket | undefined {
    const star = this.byPurpose.get('*');
    return star !== undefined && star.lines.length > 0 && (this.catalogued === null || this.catalogued.includes(purpose)) ? star : undefined;
  }
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
 * The grant, agreement, suspension and role-reservation lines of the policy, indexed by key, and the lookups
 * model.conf's matcher calls (`grants.inForce(...)` ...). It holds exactly the lines the enforcer
 * holds: every line goes into both at once, so a lookup answers what a scan of the lines would,
 * without scanning 100,000 of them.
 */
export class PolicyIndex {
  /** The catalog entries that say which purposes a '*' grant line covers; absent, the reference ones. */
  constructor(private readonly entries?: CataloguedEntries) {}

  private readonly grantLines = new Map<string, GrantsOf>();
  private readonly agreementLines = new Map<string, AgreementLine[]>();
  private readonly suspensionLines = new Map<string, SuspensionLine[]>();
  /** Role reservations (p5) by target: a dataset id or a Type.field coordinate. */
  private readonly roleLines = new Map<string, (readonly string[])[]>();

  add(ptype: 'p2' | 'p3' | 'p4' | 'p5', rule: readonly string[]): void {
    switch (ptype) {
      case 'p2': {
        const [, consumer, dataset, purpose, from, until] = rule as [string, string, string, string, string, string];
        const key = `${consumer}\u0000${dataset}`;
        let of = this.grantLines.get(key);
        if (of === undefined) {
          of = new GrantsOf(cataloguedPurposes(dataset, this.entries));
          this.grantLines.set(key, of);
        }
        let bucket = of.byPurpose.get(purpose);
        if (bucket === undefined) {
          bucket = new GrantBucket();
          of.byPurpose.set(purpose, bucket);
        }
        bucket.add({ rule, from: timeOf(from), until: timeOf(until) });
        of.count++;
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
      case 'p5':
        push(this.roleLines, rule[0]!, rule);
        return;
    }
  }

  remove(ptype: 'p2' | 'p3' | 'p4' | 'p5', rule: readonly string[]): void {
    switch (ptype) {
      case 'p2': {
        const key = `${rule[1]}\u0000${rule[2]}`;
        const of = this.grantLines.get(key);
        const bucket = of?.byPurpose.get(rule[3]!);
        if (of === undefined || bucket === undefined) return;
        const before = bucket.lines.length;
        bucket.remove(rule);
        of.count -= before - bucket.lines.length;
        if (bucket.lines.length === 0) of.byPurpose.delete(rule[3]!);
        if (of.count === 0) this.grantLines.delete(key);
        return;
      }
      case 'p3':
        return drop(this.agreementLines, pairKey(rule[1]!, rule[2]!), rule);
      case 'p4':
        return drop(this.suspensionLines, rule[0]!, rule);
      case 'p5': {
        const kept = (this.roleLines.get(rule[0]!) ?? []).filter((l) => l !== rule && l.join('\u0000') !== rule.join('\u0000'));
        if (kept.length === 0) this.roleLines.delete(rule[0]!);
        else this.roleLines.set(rule[0]!, kept);
        return;
      }
    }
  }

  /**
   * The reservations of the dataset and of the field that a reader of `agency` with `roles` does
   * not meet: for each reserved target none of whose lines it meets, those lines. Empty: it may read.
   */
  rolesUnmet(dataset: string, coordinate: string, agency: string, roles: readonly string[]): (readonly string[])[] {
    const unmet: (readonly string[])[] = [];
    for (const target of [dataset, coordinate]) {
      const lines = target === '' ? undefined : this.roleLines.get(target);
      if (lines === undefined) continue;
      if (!lines.some((l) => roles.includes(l[1]!) && (l[2] === '*' || l[2] === agency))) unmet.push(...lines);
    }
    return unmet;
  }

  /** The reservations of the dataset and of the field, met or not (for `explain`). */
  reservationsOf(dataset: string, coordinate: string): (readonly string[])[] {
    return [...(dataset === '' ? [] : (this.roleLines.get(dataset) ?? [])), ...(this.roleLines.get(coordinate) ?? [])];
  }

  private buckets(agency: string, dataset: string, purpose: string): GrantBucket[] {
    return this.grantLines.get(`${agency}\u0000${dataset}`)?.buckets(purpose) ?? [];
  }

  /** The grant line in force for this read, if any (one that `grants.inForce` found). */
  grantInForce(agency: string, dataset: string, purpose: string, now: number): readonly string[] | undefined {
    for (const b of this.buckets(agency, dataset, purpose)) {
      const line = b.lineAt(now);
      if (line !== undefined) return line.rule;
    }
    return undefined;
  }

  grantsFor(agency: string, dataset: string): readonly (readonly string[])[] {
    const of = this.grantLines.get(`${agency}\u0000${dataset}`);
    return of === undefined ? [] : [...of.byPurpose.values()].flatMap((b) => b.lines.map((l) => l.rule));
  }

  agreementInForce(a: string, b: string, dataset: string, now: number, secret: boolean): readonly string[] | undefined {
    return (this.agreementLines.get(pairKey(a, b)) ?? []).find((l) => (l.dataset === '*' || l.dataset === dataset) && now >= l.from && now < l.until && (!secret || l.secrecyFiled))?.rule;
  }

  suspensionInForce(agency: string, dataset: string, now: number): readonly string[] | undefined {
    return (this.suspensionLines.get(agency) ?? []).find((l) => (l.dataset === '*' || l.dataset === dataset) && now >= l.from && now < l.until)?.rule;
  }

  /** The objects model.conf's matcher calls, by the names it uses. */
  matcherFunctions(): Record<'grants' | 'agreements' | 'suspensions' | 'roles', object> {
    return {
      grants: {
        exist: (agency: string, dataset: string): boolean => this.grantLines.has(`${agency}\u0000${dataset}`),
        cover: (agency: string, dataset: string, purpose: string): boolean => this.grantLines.get(`${agency}\u0000${dataset}`)?.covers(purpose) === true,
        inForce: (agency: string, dataset: string, purpose: string, now: number): boolean => this.grantLines.get(`${agency}\u0000${dataset}`)?.inForce(purpose, now) === true,
      },
      agreements: {
        inForce: (a: string, b: string, dataset: string, now: number, secret: boolean): boolean => this.agreementInForce(a, b, dataset, now, secret) !== undefined,
      },
      suspensions: {
        inForce: (agency: string, dataset: string, now: number): boolean => this.suspensionInForce(agency, dataset, now) !== undefined,
      },
      roles: {
        held: (dataset: string, coordinate: string, agency: string, roles: readonly string[]): boolean => this.rolesUnmet(dataset, coordinate, agency, roles).length === 0,
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
    for (const of of this.grantLines.values()) {
      for (const b of of.byPurpose.values()) {
        for (const l of b.lines) {
          see(l.from);
          see(l.until);
        }
      }
    }
    for (const map of [this.agreementLines, this.suspensionLines] as Map<string, { from: number; until: number }[]>[]) {
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
