import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { newEnforceContext, newEnforcer, newModel, type Enforcer } from 'casbin';
import { openGrantStore, type Agreement, type Grant, type GrantChange, type GrantStore } from '../../ledger/grants.ts';
import { agreementProblem, agreementRules, grantProblem, grantRules, policyFromTexts, readPolicyDir, whereOf, type PolicyFiles, type PolicyTexts, type SourcedRule } from './policy-files.ts';
import type { Caller, Catalog, Dataset, Decision, DenyReason } from './types.ts';

/**
 * Sharing decisions (CONTRACT §3) with Casbin as the source of truth: every grant and agreement
 * line lives in the enforcer's model, and `explain` asks Casbin itself. The hot path does not
 * scan lines: an index per (consumer, dataset) and per agency pair is kept in step with the model
 * on every incremental change, and decisions are cached per (agency, purpose, coordinate) until
 * the next change or the next moment a grant or agreement starts or ends.
 */
export interface SharingPolicy {
  decide(caller: Caller, coordinate: string, now?: number): Decision;
  /** Moves on every policy, grant or agreement change, and when a validity boundary passes. */
  readonly version: number;
  onChange(listener: (why: string) => void): () => void;
  explain(caller: Caller, coordinate: string, now?: number): Promise<{ decision: Decision; lines: string[] }>;
  /** The authority's grant store this policy follows. */
  readonly store: GrantStore;
  close(): Promise<void>;
}

interface GrantRule {
  readonly id: string;
  readonly purpose: string;
  readonly from: number;
  readonly until: number;
}

interface AgreementRule {
  readonly id: string;
  readonly dataset: string;
  readonly from: number;
  readonly until: number;
  readonly secrecyFiled: boolean;
}

function grantSource(g: Grant): string {
  return `grant ${g.id}${g.requestId ? ` (request ${g.requestId})` : ''}`;
}

function agreementSource(a: Agreement): string {
  return `agreement ${a.id} (${a.documentRef})`;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

/** The line index: what the matchers of model.conf would find, without scanning every line. */
class RuleIndex {
  readonly grants = new Map<string, GrantRule[]>();
  readonly agreements = new Map<string, AgreementRule[]>();

  add(ptype: 'p' | 'p2', rule: readonly string[]): void {
    if (ptype === 'p') {
      const [id, consumer, dataset, purpose, from, until] = rule as [string, string, string, string, string, string];
      const key = `${consumer}\u0000${dataset}`;
      const list = this.grants.get(key) ?? [];
      list.push({ id, purpose, from: Date.parse(from), until: Date.parse(until) });
      this.grants.set(key, list);
    } else {
      const [id, a, b, dataset, signedOn, until, filed] = rule as [string, string, string, string, string, string, string];
      const key = pairKey(a, b);
      const list = this.agreements.get(key) ?? [];
      list.push({ id, dataset, from: Date.parse(signedOn), until: Date.parse(until), secrecyFiled: filed === 'true' });
      this.agreements.set(key, list);
    }
  }

  removeId(ptype: 'p' | 'p2', id: string): void {
    const maps: Map<string, { id: string }[]> = ptype === 'p' ? this.grants : this.agreements;
    for (const [key, list] of maps) {
      const kept = list.filter((r) => r.id !== id);
      if (kept.length === 0) maps.delete(key);
      else if (kept.length !== list.length) maps.set(key, kept);
    }
  }

  /**
   * The window around `now` in which no grant or agreement starts or stops being in force: within
   * it, a decision made once holds.
   */
  window(now: number): { from: number; until: number } {
    let from = -Infinity;
    let until = Infinity;
    const see = (t: number): void => {
      if (t > now && t < until) until = t;
      if (t <= now && t > from) from = t;
    };
    for (const lists of [this.grants.values(), this.agreements.values()]) {
      for (const list of lists) {
        for (const r of list) {
          see(r.from);
          see(r.until);
        }
      }
    }
    return { from, until };
  }
}

function remedyFor(reason: DenyReason, ds: Dataset | null, caller: Caller): string {
  switch (reason) {
    case 'NOT_SHARED':
      return `Dataset ${ds?.id} is not shared (R-4): only ${ds?.provider} reads it; no grant can open it.`;
    case 'NOT_CATALOGUED':
      return 'This field belongs to no catalogued dataset: ask its provider to catalog it, or file a sharing request with the authority (R-21).';
    case 'PURPOSE_REQUIRED':
      return `Conditional data needs a declared purpose: send the x-purpose header with a purpose your grant for ${ds?.id} names (R-24).`;
    case 'GRANT_REQUIRED':
      return `File a sharing request to ${ds?.provider} for dataset ${ds?.id} (R-21).`;
    case 'PURPOSE_MISMATCH':
      return `Your grant for ${ds?.id} does not cover the purpose "${caller.purpose}": use a purpose it names, or file a sharing request to ${ds?.provider} for this purpose (R-24).`;
    case 'GRANT_EXPIRED':
      return `Your grant for ${ds?.id} is not in force now: ask ${ds?.provider} to renew it (R-22).`;
    case 'AGREEMENT_REQUIRED':
      return `${ds?.id} is ${ds?.sensitivity} data: register a confidentiality agreement between ${caller.agency} and ${ds?.provider} with the authority${ds?.sensitivity === 'STATE_SECRET' ? ', filed with the secrecy bureau' : ''} (R-34).`;
    case 'UNPUBLISHED':
      return 'Published once eeb, drc and stats have confirmed the totals (R-E11).';
  }
}

export interface SharingPolicyOptions {
  readonly catalog: Catalog;
  readonly policyDir: string;
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix?: string;
  readonly unclassified: 'deny' | 'allow';
  readonly log?: (line: string) => void;
  /** Debounce of file-change events; files are re-read this long after the last event. */
  readonly reloadDelayMs?: number;
  /** Names this instance in the policy revisions it publishes (with Redis). */
  readonly instance?: string;
}

/** Equal texts, equal id: a revision an instance already runs is never rebuilt. */
function revisionId(texts: PolicyTexts): string {
  const h = createHash('sha256');
  for (const name of Object.keys(texts).sort()) h.update(name).update('\u0000').update(texts[name]!).update('\u0000');
  return h.digest('hex');
}

/** The newest modification time among a policy directory's files, or 0. */
function newestChange(dir: string, texts: PolicyTexts): number {
  let newest = 0;
  for (const name of Object.keys(texts)) newest = Math.max(newest, statSync(path.join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return newest;
}

export async function openSharingPolicy(opts: SharingPolicyOptions): Promise<SharingPolicy> {
  const log = opts.log ?? (() => undefined);
  const { catalog } = opts;
  let files = readPolicyDir(catalog, opts.policyDir);
  if (files.problems.length > 0) {
    throw new Error(`policy files refused: ${files.problems.join('; ')}`);
  }
  const store = await openGrantStore({ dataDir: opts.dataDir, redisUrl: opts.redisUrl, ...(opts.redisPrefix ? { redisPrefix: opts.redisPrefix } : {}), log });

  let enforcer: Enforcer;
  let index = new RuleIndex();
  // With Redis the policy is shared: the newer of this directory and the last revision any
  // instance published runs at start, and every change picked up later is published to all.
  const shared = store.kind === 'redis';
  let localId = revisionId(files.texts); // what POLICY_DIR holds, as last read
  let currentId = localId; // what runs
  let starting: PolicyFiles = files;
  const revision = shared ? (await store.snapshot()).policy : null;
  if (revision !== null && revision.id !== localId && Date.parse(revision.at) > newestChange(opts.policyDir, files.texts)) {
    const name = `revision ${revision.id.slice(0, 8)}`;
    const adopted = policyFromTexts(catalog, revision.texts, name);
    if (adopted.problems.length === 0) {
      starting = adopted;
      currentId = revision.id;
      log(`policy: running ${name} published by ${revision.by} at ${revision.at}, newer than ${opts.policyDir}`);
    } else {
      for (const p of adopted.problems) log(`policy: shared ${name} refused, running ${opts.policyDir}: ${p}`);
    }
  }
  const publish = async (): Promise<void> => {
    if (!shared || currentId !== localId || (await store.snapshot()).policy?.id === localId) return;
    await store.apply({ op: 'policy', revision: { id: localId, by: opts.instance ?? 'gateway', at: new Date().toISOString(), texts: files.texts } });
  };
  // Where each line came from, for `explain`: a file line, or the grant or agreement in the store.
  const sources = { p: new Map<string, SourcedRule | string>(), p2: new Map<string, SourcedRule | string>() };
  const sourceOf = (ptype: 'p' | 'p2', id: string | undefined): string => {
    const s = id === undefined ? undefined : sources[ptype].get(id);
    return s === undefined ? (ptype === 'p' ? 'grant' : 'agreement') : typeof s === 'string' ? s : whereOf(s);
  };
  let version = 1;
  let window = { from: -Infinity, until: Infinity };
  let cache = new Map<string, Decision>();
  const listeners = new Set<(why: string) => void>();

  const changed = (why: string): void => {
    version++;
    cache = new Map();
    window = index.window(Date.now());
    for (const l of listeners) l(why);
  };

  // Builds a fresh enforcer and index from the files and the store: at start and on file reload.
  const build = async (rules: readonly SourcedRule[], modelText: string): Promise<{ enforcer: Enforcer; index: RuleIndex }> => {
    const e = await newEnforcer(newModel(modelText));
    const idx = new RuleIndex();
    const p: string[][] = [];
    const p2: string[][] = [];
    sources.p.clear();
    sources.p2.clear();
    for (const r of rules) {
      // Casbin keeps the arrays as given and never changes them.
      (r.ptype === 'p' ? p : p2).push(r.rule as string[]);
      idx.add(r.ptype, r.rule);
      sources[r.ptype].set(r.rule[0]!, r);
    }
    const snap = await store.snapshot();
    for (const g of snap.grants.values()) {
      const problem = grantRules(g).map((r) => grantProblem(catalog, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!)).find((x) => x !== null);
      if (problem !== undefined) {
        log(`grant ${g.id} from the authority's store refused: ${problem}`);
        continue;
      }
      for (const r of grantRules(g)) {
        p.push(r);
        idx.add('p', r);
      }
      sources.p.set(g.id, grantSource(g));
    }
    for (const a of snap.agreements.values()) {
      for (const r of agreementRules(a)) {
        p2.push(r);
        idx.add('p2', r);
      }
      sources.p2.set(a.id, agreementSource(a));
    }
    if (p.length > 0) await e.addPolicies(p);
    if (p2.length > 0) await e.addNamedPolicies('p2', p2);
    return { enforcer: e, index: idx };
  };

  // Subscribed before the first snapshot is read, so no change can fall between the two (one that
  // both carry is applied twice, which changes nothing). Changes apply in arrival order, once the
  // first build is in place.
  let ready!: () => void;
  let applying = new Promise<void>((resolve) => (ready = resolve));
  const unsubscribe = store.subscribe((change) => {
    applying = applying.then(() => applyChange(change)).catch((e: unknown) => log(`policy change failed: ${(e as Error).message}`));
  });
  ({ enforcer, index } = await build(starting.rules, starting.modelText));
  window = index.window(Date.now());
  await publish();

  // Incremental: one grant or agreement added or revoked changes its lines only.
  const applyChange = async (change: GrantChange): Promise<void> => {
    switch (change.op) {
      case 'suspension':
      case 'lift-suspension':
        // Suspensions enter the decision with the Casbin model that decides them.
        return;
      case 'policy': {
        const r = change.revision;
        if (r.id === currentId) return;
        await install(policyFromTexts(catalog, r.texts, `revision ${r.id.slice(0, 8)}`), r.id, `revision ${r.id.slice(0, 8)} published by ${r.by}`);
        return;
      }
      case 'grant': {
        const rules = grantRules(change.grant);
        const problem = rules.map((r) => grantProblem(catalog, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!)).find((x) => x !== null);
        if (problem !== undefined) {
          log(`grant ${change.grant.id} refused: ${problem}`);
          return;
        }
        await removeLines('p', change.grant.id);
        await enforcer.addPolicies(rules);
        for (const r of rules) index.add('p', r);
        sources.p.set(change.grant.id, grantSource(change.grant));
        changed(`grant ${change.grant.id} added`);
        return;
      }
      case 'revoke-grant':
        await removeLines('p', change.id);
        changed(`grant ${change.id} revoked`);
        return;
      case 'agreement': {
        const rules = agreementRules(change.agreement);
        const problem = rules.map((r) => agreementProblem(catalog, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!)).find((x) => x !== null);
        if (problem !== undefined) {
          log(`agreement ${change.agreement.id} refused: ${problem}`);
          return;
        }
        await removeLines('p2', change.agreement.id);
        await enforcer.addNamedPolicies('p2', rules);
        for (const r of rules) index.add('p2', r);
        sources.p2.set(change.agreement.id, agreementSource(change.agreement));
        changed(`agreement ${change.agreement.id} added`);
        return;
      }
      case 'revoke-agreement':
        await removeLines('p2', change.id);
        changed(`agreement ${change.id} revoked`);
        return;
    }
  };
  const removeLines = async (ptype: 'p' | 'p2', id: string): Promise<void> => {
    await enforcer.removeFilteredNamedPolicy(ptype, 0, id);
    index.removeId(ptype, id);
  };
  ready();

  // A whole new policy, from this directory or from another instance: all-or-nothing, the last
  // good policy stays on any problem. True when installed.
  const install = async (next: PolicyFiles, id: string, from: string): Promise<boolean> => {
    if (next.problems.length > 0) {
      for (const p of next.problems) log(`policy ${from} refused, keeping the last good policy: ${p}`);
      return false;
    }
    try {
      ({ enforcer, index } = await build(next.rules, next.modelText));
    } catch (e) {
      log(`policy ${from} refused, keeping the last good policy: model.conf: ${(e as Error).message}`);
      return false;
    }
    currentId = id;
    changed(`policy ${from} installed`);
    log(`policy ${from} installed: ${next.rules.length} lines`);
    return true;
  };

  // Hot reload of the policy files.
  let timer: NodeJS.Timeout | null = null;
  const reload = (): void => {
    timer = null;
    applying = applying.then(async () => {
      const next = readPolicyDir(catalog, opts.policyDir);
      const id = revisionId(next.texts);
      // Unchanged files (a touch, or a revision adopted from another instance) change nothing,
      // but a publish that failed before is tried again.
      if (id === currentId || id === localId) return publish();
      if (await install(next, id, `from ${opts.policyDir}`)) {
        files = next;
        localId = id;
        await publish();
      }
    }).catch((e: unknown) => {
      // The chain must never hold a rejection: it would be unhandled (ending the process) and every
      // later change, explain and close would be skipped or fail with it.
      log(`policy from ${opts.policyDir} runs here but is not published to the other gateways (published at the next change or touch of a policy file): ${(e as Error).message}`);
    });
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(opts.policyDir, () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(reload, opts.reloadDelayMs ?? 100);
    });
  } catch (e) {
    log(`cannot watch ${opts.policyDir} for changes: ${(e as Error).message}`);
  }

  const compute = (caller: Caller, coordinate: string, now: number): Decision => {
    const ds = catalog.byCoordinate.get(coordinate) ?? null;
    const deny = (reason: DenyReason): Decision => ({ effect: 'DENY', reason, dataset: ds, remedy: remedyFor(reason, ds, caller) });
    if (ds === null) {
      const dot = coordinate.indexOf('.');
      if (catalog.keyFields.get(coordinate.slice(0, dot))?.includes(coordinate.slice(dot + 1))) return { effect: 'ALLOW', reason: 'KEY_FIELD', dataset: null, grantId: null };
      return opts.unclassified === 'allow' ? { effect: 'ALLOW', reason: 'UNCLASSIFIED_ALLOWED', dataset: null, grantId: null } : deny('NOT_CATALOGUED');
    }
    if (ds.provider === caller.agency) return { effect: 'ALLOW', reason: 'PROVIDER', dataset: ds, grantId: null };
    switch (ds.class) {
      case 'NOT_SHARED':
        return deny('NOT_SHARED');
      case 'UNCONDITIONAL':
        return { effect: 'ALLOW', reason: 'UNCONDITIONAL', dataset: ds, grantId: null };
      case 'CONDITIONAL': {
        if (caller.purpose === null) return deny('PURPOSE_REQUIRED');
        const grants = index.grants.get(`${caller.agency}\u0000${ds.id}`);
        if (grants === undefined || grants.length === 0) return deny('GRANT_REQUIRED');
        const forPurpose = grants.filter((g) => g.purpose === '*' || g.purpose === caller.purpose);
        if (forPurpose.length === 0) return deny('PURPOSE_MISMATCH');
        const inForce = forPurpose.find((g) => now >= g.from && now < g.until);
        if (inForce === undefined) return deny('GRANT_EXPIRED');
        if (ds.sensitivity !== null) {
          const secret = ds.sensitivity === 'STATE_SECRET';
          const agreed = (index.agreements.get(pairKey(caller.agency, ds.provider)) ?? []).some(
            (a) => (a.dataset === '*' || a.dataset === ds.id) && now >= a.from && now < a.until && (!secret || a.secrecyFiled),
          );
          if (!agreed) return deny('AGREEMENT_REQUIRED');
        }
        return { effect: 'ALLOW', reason: 'GRANT', dataset: ds, grantId: inForce.id };
      }
    }
  };

  // True when decisions cached now hold at `now`; moves the version when real time crossed a boundary.
  const inWindow = (now: number): boolean => {
    if (now >= window.from && now < window.until) return true;
    if (Math.abs(now - Date.now()) < 1000 && now >= window.until) {
      changed('a grant or agreement started or ended');
      return now >= window.from && now < window.until;
    }
    return false;
  };

  return {
    store,
    get version() {
      inWindow(Date.now());
      return version;
    },
    decide(caller, coordinate, now = Date.now()) {
      // A question about another time than now is answered, not cached.
      if (!inWindow(now)) return compute(caller, coordinate, now);
      const key = `${caller.agency}\u0000${caller.purpose ?? ''}\u0000${coordinate}`;
      let d = cache.get(key);
      if (d === undefined) {
        d = compute(caller, coordinate, now);
        cache.set(key, d);
      }
      return d;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async explain(caller, coordinate, now = Date.now()) {
      await applying;
      const decision = compute(caller, coordinate, now);
      const lines: string[] = [];
      const ds = decision.dataset;
      if (ds !== null && ds.class === 'CONDITIONAL' && ds.provider !== caller.agency && caller.purpose !== null) {
        const at = new Date(now).toISOString();
        const [ok, rule] = await enforcer.enforceEx(caller.agency, ds.id, caller.purpose, at);
        if (ok) lines.push(`${sourceOf('p', rule[0])}: p, ${rule.join(', ')}`);
        else {
          for (const r of await enforcer.getFilteredNamedPolicy('p', 1, caller.agency, ds.id)) lines.push(`${sourceOf('p', r[0])}: p, ${r.join(', ')} (does not match)`);
        }
        if (ok && ds.sensitivity !== null) {
          const [agreed, arule] = await enforcer.enforceEx(newEnforceContext('2'), caller.agency, ds.provider, ds.id, at, String(ds.sensitivity === 'STATE_SECRET'));
          if (agreed) lines.push(`${sourceOf('p2', arule[0])}: p2, ${arule.join(', ')}`);
          else lines.push(`no confidentiality agreement between ${caller.agency} and ${ds.provider} covers ${ds.id} now`);
        }
      }
      return { decision, lines };
    },
    async close() {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
      watcher?.close();
      await applying;
      await store.close();
    },
  };
}
