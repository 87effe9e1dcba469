import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { AGENCY_CODES, PURPOSE_CODES, ROLES } from '../../common/vocabulary.ts';
import { openGrantStore, type GrantChange, type GrantStore } from '../../ledger/grants.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { buildEnforcer, type RequestObject, type SharingEnforcer } from './enforcer.ts';
import {
  agreementRules,
  agreementVerdict,
  grantRules,
  grantVerdict,
  lineText,
  policyFromTexts,
  readPolicyDir,
  suspensionRules,
  suspensionVerdict,
  whereOf,
  type LineVerdict,
  type PolicyFiles,
  type PolicyTexts,
  type PolicyType,
  type SourcedRule,
} from './policy-files.ts';
import type { PolicyRevisionRecord } from './revisions.ts';
import { ALLOW_REASONS, DENY_REASONS, type AllowReason, type Caller, type Catalog, type Dataset, type Decision, type DenyReason } from './types.ts';

export type { PolicyRevisionRecord } from './revisions.ts';

/**
 * Sharing decisions (docs/policies.md): Casbin's enforcer over policies/model.conf and its lines
 * decides every read, reason included. In front of it, decisions are cached per (agency, purpose,
 * coordinate) for one policy revision and one validity window: the cache is dropped on every change
 * and whenever a grant, agreement or suspension starts or ends, so it never changes an answer.
 */
export interface SharingPolicy {
  decide(caller: Caller, coordinate: string, now?: number): Decision;
  /** Casbin's answer without the cache in front of it (policy tests, benchmarks). */
  evaluate(caller: Caller, coordinate: string, now: number): Decision;
  /** Moves on every policy, grant, agreement or suspension change, and when a validity boundary passes. */
  readonly version: number;
  /** The time decisions are made at now (the injected clock). */
  now(): number;
  onChange(listener: (why: string) => void): () => void;
  /** The decision with the model.conf lines and policy lines (file:line) that made it. */
  explain(caller: Caller, coordinate: string, now?: number): Promise<{ decision: Decision; lines: string[] }>;
  /** The authority's grant store this policy follows. */
  readonly store: GrantStore;
  close(): Promise<void>;
}

/** Who may read a reserved field, from its unmet reservations: "role auditor", "role coordinator of itd". */
function reservedTo(unmet: readonly (readonly string[])[]): string {
  const who = [...new Set(unmet.map((l) => `${l[1]}${l[2] === '*' ? '' : ` of ${l[2]}`}`))];
  return who.length === 0 ? 'a role' : `role ${who.join(' or ')}`;
}

function remedyFor(reason: DenyReason | null, ds: Dataset | null, caller: Caller, unmetRoles: readonly (readonly string[])[] = []): string {
  switch (reason) {
    case 'ROLE_REQUIRED':
      return `Reading this field needs ${reservedTo(unmetRoles)}: ask your agency for a token with it.`;
    case null:
      return 'No rule of the sharing policy allows this read: ask the data provider or the authority.';
    case 'NOT_SHARED':
      return `Dataset ${ds?.id} is not shared (R-4): only ${ds?.provider} reads it; no grant can open it.`;
    case 'NOT_CATALOGUED':
      // A sharing request names catalogued datasets only, so the way in is the demand register.
      return 'This field belongs to no catalogued dataset: record the need in the authority\'s demand register (Mutation.recordDemand); the authority matches it to a catalogued dataset to file a sharing request for, or has its holder catalog it (Art. 12–13, R-21).';
    case 'PURPOSE_REQUIRED':
      return `Conditional data needs a declared purpose: send the x-purpose header with a purpose your grant for ${ds?.id} names (R-24).`;
    case 'GRANT_REQUIRED':
      return `File a sharing request to ${ds?.provider} for dataset ${ds?.id} (R-21).`;
    case 'PURPOSE_MISMATCH':
      return `Your grant for ${ds?.id} does not cover the purpose "${caller.purpose}": use a purpose it names, or file a sharing request to ${ds?.provider} for this purpose (R-24).`;
    case 'GRANT_EXPIRED':
      return `Your grant for ${ds?.id} is not in force now: ask ${ds?.provider} to renew it (R-22).`;
    case 'AGREEMENT_REQUIRED':
      return `${ds?.id} is ${ds?.sensitivity} data: propose a confidentiality agreement to ${ds?.provider} (proposeConfidentialityAgreement); it is in force once ${ds?.provider} countersigns${ds?.sensitivity === 'STATE_SECRET' ? ' and the authority records its filing with the secrecy bureau' : ''} (R-34).`;
    case 'UNPUBLISHED':
      return 'Published once eeb, drc and stats have confirmed the totals (R-E11).';
    case 'SUSPENDED':
      return `Your agency's access${ds === null ? '' : ` to ${ds.id}`} is suspended by the authority (R-40): ask the authority's coordinator.`;
  }
}

export interface SharingPolicyOptions {
  readonly catalog: Catalog;
  readonly policyDir: string;
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix?: string;
  /** LOG_SIGNING_KEY, for a ledger opened here when none is given. */
  readonly logSigningKey?: string | null;
  readonly unclassified: 'deny' | 'allow';
  readonly log?: (line: string) => void;
  /** Debounce of file-change events; files are re-read this long after the last event. */
  readonly reloadDelayMs?: number;
  /** Names this instance in the policy revisions it publishes (with Redis). */
  readonly instance?: string;
  /** Told once per policy revision this gateway installs (for the authority's ledger). */
  readonly onRevision?: (rev: PolicyRevisionRecord) => void;
  /** The ledger this process already has open (the grants are read from it); else the policy opens its own. */
  readonly ledger?: Ledger;
  /** The time decisions are made at, in ms since 1970 UTC (tests move it instead of waiting). */
  readonly now?: () => number;
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

/** The model's statements without comments, as revision lines. */
function modelLines(modelText: string): string[] {
  return modelText
    .split('\n')
    .map((l) => l.replace(/[#;].*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => `model.conf: ${l}`);
}

/** Where a line came from, for `explain`: "policies/grants.csv:9", or "grant g-1 (sharing request r-1)". */
type Sources = Map<readonly string[], SourcedRule>;

/** Lines of the authority's store, by the id of the grant, agreement or suspension they stand for. */
interface StoreLines {
  readonly p2: Map<string, string[][]>;
  readonly p3: Map<string, string[][]>;
  readonly p4: Map<string, string[][]>;
}

function firstVerdict(verdicts: LineVerdict[]): LineVerdict {
  return verdicts.find((v) => v !== null && 'refuse' in v) ?? verdicts.find((v) => v !== null) ?? null;
}

export async function openSharingPolicy(opts: SharingPolicyOptions): Promise<SharingPolicy> {
  const log = opts.log ?? (() => undefined);
  const clock = opts.now ?? Date.now;
  const { catalog } = opts;
  let files = readPolicyDir(catalog, opts.policyDir);
  if (files.problems.length > 0) {
    throw new Error(`policy files refused: ${files.problems.join('; ')}`);
  }
  const store = await openGrantStore({ dataDir: opts.dataDir, redisUrl: opts.redisUrl, ...(opts.logSigningKey !== undefined ? { logSigningKey: opts.logSigningKey } : {}), ...(opts.redisPrefix ? { redisPrefix: opts.redisPrefix } : {}), log, ...(opts.ledger !== undefined ? { ledger: opts.ledger } : {}) });

  // Lines naming datasets this supergraph lacks are said once, not at every reload.
  const reported = new Set<string>();
  const report = (ignored: readonly string[]): void => {
    for (const i of ignored) {
      if (!reported.has(i)) log(`policy: ${i}`);
      reported.add(i);
    }
  };

  // With Redis the policy is shared: the newer of this directory and the last revision any
  // instance published runs at start, and every change picked up later is published to all.
  const shared = store.kind === 'redis';
  let localId = revisionId(files.texts); // what POLICY_DIR holds, as last read
  let currentId = localId; // what runs
  let starting: PolicyFiles = files;
  let startOrigin: PolicyRevisionRecord['origin'] = 'file';
  const revision = shared ? (await store.snapshot()).policy : null;
  if (revision !== null && revision.id !== localId && Date.parse(revision.at) > newestChange(opts.policyDir, files.texts)) {
    const name = `revision ${revision.id.slice(0, 8)}`;
    const adopted = policyFromTexts(catalog, revision.texts, name);
    if (adopted.problems.length === 0) {
      starting = adopted;
      currentId = revision.id;
      startOrigin = `instance:${revision.by}`;
      log(`policy: running ${name} published by ${revision.by} at ${revision.at}, newer than ${opts.policyDir}`);
    } else {
      for (const p of adopted.problems) log(`policy: shared ${name} refused, running ${opts.policyDir}: ${p}`);
    }
  }
  const publish = async (): Promise<void> => {
    if (!shared || currentId !== localId || (await store.snapshot()).policy?.id === localId) return;
    await store.apply({ op: 'policy', revision: { id: localId, by: opts.instance ?? 'gateway', at: new Date(clock()).toISOString(), texts: files.texts } });
  };

  let enforcer: SharingEnforcer;
  let sources: Sources = new Map();
  let modelText = '';
  let fileRules: readonly SourcedRule[] = [];
  const storeLines: StoreLines = { p2: new Map(), p3: new Map(), p4: new Map() };

  // The revision on record: every line in force and the model, hashed in a canonical order.
  let recorded: { hash: string; lines: Set<string> } | null = null;
  const record = (origin: PolicyRevisionRecord['origin']): void => {
    if (opts.onRevision === undefined) return;
    const lines = new Set<string>(modelLines(modelText));
    for (const r of fileRules) lines.add(lineText(r.ptype, r.rule));
    for (const ptype of ['p2', 'p3', 'p4'] as const) for (const rules of storeLines[ptype].values()) for (const r of rules) lines.add(lineText(ptype, r));
    const hash = createHash('sha256').update([...lines].sort().join('\n')).digest('hex');
    if (recorded?.hash === hash) return;
    const before = recorded?.lines ?? new Set<string>();
    const rev: PolicyRevisionRecord = {
      hash,
      previous: recorded?.hash ?? null,
      added: [...lines].filter((l) => !before.has(l)),
      removed: [...before].filter((l) => !lines.has(l)),
      origin,
      at: new Date(clock()).toISOString(),
    };
    recorded = { hash, lines };
    try {
      opts.onRevision(rev);
    } catch (e) {
      log(`policy: the revision record could not be handed on: ${(e as Error).message}`);
    }
  };

  let version = 1;
  let window = { from: -Infinity, until: Infinity };
  let cache = new Map<string, Decision>();
  const listeners = new Set<(why: string) => void>();

  const changed = (why: string): void => {
    version++;
    cache = new Map();
    window = enforcer.index.window(clock());
    for (const l of listeners) l(why);
  };

  const storeSource = (ptype: 'p2' | 'p3' | 'p4', label: string): SourcedRule => ({ ptype, rule: [], file: label, line: 0 });

  /** The lines of one grant, agreement or suspension in the store, or why they are refused. */
  const storeEntry = (change: GrantChange): { ptype: 'p2' | 'p3' | 'p4'; id: string; rules: string[][]; label: string; verdict: LineVerdict } | null => {
    switch (change.op) {
      case 'grant': {
        const g = change.grant;
        const rules = grantRules(g);
        return { ptype: 'p2', id: g.id, rules, label: `grant ${g.id}${g.requestId ? ` (sharing request ${g.requestId})` : ''}`, verdict: firstVerdict(rules.map((r) => grantVerdict(catalog, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!))) };
      }
      case 'agreement': {
        const a = change.agreement;
        const rules = agreementRules(a);
        return { ptype: 'p3', id: a.id, rules, label: `agreement ${a.id} (${a.documentRef})`, verdict: firstVerdict(rules.map((r) => agreementVerdict(catalog, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!))) };
      }
      case 'suspension': {
        const s = change.suspension;
        const rules = suspensionRules(s);
        return { ptype: 'p4', id: s.id, rules, label: `suspension ${s.id} by the authority`, verdict: firstVerdict(rules.map((r) => suspensionVerdict(catalog, r[0]!, r[1]!, r[2]!, r[3]!, r[4]!))) };
      }
      case 'policy':
      case 'revoke-grant':
      case 'revoke-agreement':
      case 'lift-suspension':
        return null;
    }
  };

  /**
   * No policy may let anyone but the provider read NOT_SHARED data (R-4), however model.conf and
   * the rules are written: asked of the enforcer itself, for every agency and purpose.
   */
  const openingProblem = (e: SharingEnforcer, now: number): string | null => {
    for (const ds of catalog.datasets.values()) {
      if (ds.class !== 'NOT_SHARED') continue;
      const obj: RequestObject = { coordinate: '', id: ds.id, provider: ds.provider, class: ds.class, sensitivity: ds.sensitivity ?? '', unclassified: opts.unclassified };
      for (const agency of AGENCY_CODES) {
        if (agency === ds.provider) continue;
        for (const purpose of ['', ...PURPOSE_CODES]) {
          for (const roles of [[], [...ROLES]]) {
            for (const coordinate of ds.coordinates) {
              if (e.enforce({ agency, purpose, roles }, { ...obj, coordinate }, now)[0]) return `the policy would let ${agency} read NOT_SHARED dataset ${ds.id} (R-4)`;
            }
          }
        }
      }
    }
    return null;
  };

  // Builds a fresh enforcer from the files and the store: at start and on every new policy.
  const build = async (next: PolicyFiles): Promise<{ enforcer: SharingEnforcer; sources: Sources }> => {
    const all: { ptype: PolicyType; rule: readonly string[] }[] = next.rules.slice();
    const src: Sources = new Map();
    for (const r of next.rules) src.set(r.rule, r);
    storeLines.p2.clear();
    storeLines.p3.clear();
    storeLines.p4.clear();
    const snap = await store.snapshot();
    const changes: GrantChange[] = [
      ...[...snap.grants.values()].map((grant): GrantChange => ({ op: 'grant', grant })),
      ...[...snap.agreements.values()].map((agreement): GrantChange => ({ op: 'agreement', agreement })),
      ...[...(snap.suspensions?.values() ?? [])].map((suspension): GrantChange => ({ op: 'suspension', suspension })),
    ];
    for (const c of changes) {
      const entry = storeEntry(c)!;
      if (entry.verdict !== null) {
        log(`${entry.label} from the authority's store ${'refuse' in entry.verdict ? `refused: ${entry.verdict.refuse}` : `ignored: ${entry.verdict.ignore}`}`);
        continue;
      }
      storeLines[entry.ptype].set(entry.id, entry.rules);
      for (const r of entry.rules) {
        all.push({ ptype: entry.ptype, rule: r });
        src.set(r, storeSource(entry.ptype, entry.label));
      }
    }
    const e = await buildEnforcer(next.modelText, all);
    let problem: string | null;
    try {
      problem = openingProblem(e, clock());
    } catch (err) {
      problem = `model.conf cannot decide: ${(err as Error).message}`;
    }
    if (problem !== null) throw new Error(problem);
    return { enforcer: e, sources: src };
  };

  // Subscribed before the first snapshot is read, so no change can fall between the two (one that
  // both carry is applied twice, which changes nothing). Changes apply in arrival order, once the
  // first build is in place.
  let ready!: () => void;
  let applying = new Promise<void>((resolve) => (ready = resolve));
  const unsubscribe = store.subscribe((change) => {
    applying = applying.then(() => applyChange(change)).catch((e: unknown) => log(`policy change failed: ${(e as Error).message}`));
  });
  try {
    ({ enforcer, sources } = await build(starting));
  } catch (e) {
    unsubscribe();
    await store.close();
    throw new Error(`policy refused: ${(e as Error).message}`, { cause: e });
  }
  modelText = starting.modelText;
  fileRules = starting.rules;
  report(starting.ignored);
  window = enforcer.index.window(clock());
  record(startOrigin);
  await publish();

  const removeEntry = async (ptype: 'p2' | 'p3' | 'p4', id: string): Promise<void> => {
    const old = storeLines[ptype].get(id);
    if (old === undefined) return;
    storeLines[ptype].delete(id);
    await enforcer.remove(ptype, old);
    for (const r of old) sources.delete(r);
  };

  // Incremental: one grant, agreement or suspension added or ended changes its lines only.
  const applyChange = async (change: GrantChange): Promise<void> => {
    switch (change.op) {
      case 'policy': {
        const r = change.revision;
        if (r.id === currentId) return;
        await install(policyFromTexts(catalog, r.texts, `revision ${r.id.slice(0, 8)}`), r.id, `revision ${r.id.slice(0, 8)} published by ${r.by}`, `instance:${r.by}`);
        return;
      }
      case 'grant':
      case 'agreement':
      case 'suspension': {
        const entry = storeEntry(change)!;
        if (entry.verdict !== null) {
          log(`${entry.label} ${'refuse' in entry.verdict ? `refused: ${entry.verdict.refuse}` : `ignored: ${entry.verdict.ignore}`}`);
          return;
        }
        await removeEntry(entry.ptype, entry.id);
        storeLines[entry.ptype].set(entry.id, entry.rules);
        await enforcer.add(entry.ptype, entry.rules);
        for (const r of entry.rules) sources.set(r, storeSource(entry.ptype, entry.label));
        changed(`${entry.label} added`);
        record('workflow');
        return;
      }
      case 'revoke-grant':
      case 'revoke-agreement':
      case 'lift-suspension': {
        const ptype = change.op === 'revoke-grant' ? 'p2' : change.op === 'revoke-agreement' ? 'p3' : 'p4';
        if (!storeLines[ptype].has(change.id)) return;
        await removeEntry(ptype, change.id);
        changed(`${change.op} ${change.id}`);
        record('workflow');
        return;
      }
    }
  };
  ready();

  // A whole new policy, from this directory or from another instance: all-or-nothing, the last
  // good policy stays on any problem. True when installed.
  const install = async (next: PolicyFiles, id: string, from: string, origin: PolicyRevisionRecord['origin']): Promise<boolean> => {
    if (next.problems.length > 0) {
      for (const p of next.problems) log(`policy ${from} refused, keeping the last good policy: ${p}`);
      return false;
    }
    try {
      ({ enforcer, sources } = await build(next));
    } catch (e) {
      log(`policy ${from} refused, keeping the last good policy: ${(e as Error).message}`);
      // build() refilled the store lines for the refused policy; they are the same lines.
      return false;
    }
    currentId = id;
    modelText = next.modelText;
    fileRules = next.rules;
    report(next.ignored);
    changed(`policy ${from} installed`);
    log(`policy ${from} installed: ${next.rules.length} lines`);
    record(origin);
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
      if (await install(next, id, `from ${opts.policyDir}`, 'file')) {
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

  const requestObject = (coordinate: string, ds: Dataset | null): RequestObject => {
    if (ds !== null) return { coordinate, id: ds.id, provider: ds.provider, class: ds.class, sensitivity: ds.sensitivity ?? '', unclassified: opts.unclassified };
    const dot = coordinate.indexOf('.');
    const key = catalog.keyFields.get(coordinate.slice(0, dot))?.includes(coordinate.slice(dot + 1)) === true;
    return { coordinate, id: '', provider: '', class: key ? 'KEY' : 'UNCLASSIFIED', sensitivity: '', unclassified: opts.unclassified };
  };

  /** Casbin's answer, as a Decision: the deciding rule's name is the reason. */
  const enforce = (caller: Caller, coordinate: string, now: number): { decision: Decision; rule: readonly string[] } => {
    const ds = catalog.byCoordinate.get(coordinate) ?? null;
    const sub = { agency: caller.agency, purpose: caller.purpose ?? '', roles: caller.roles };
    const obj = requestObject(coordinate, ds);
    let allowed: boolean;
    let rule: readonly string[];
    try {
      [allowed, rule] = enforcer.enforce(sub, obj, now);
    } catch (e) {
      log(`policy: the enforcer failed, denying ${coordinate} to ${caller.agency}: ${(e as Error).message}`);
      return { decision: { effect: 'DENY', reason: 'NOT_SHARED', dataset: ds, remedy: remedyFor(null, ds, caller) }, rule: [] };
    }
    // Casbin names the first rule line when no line could be tried (a matcher that never reads p):
    // a rule decides only when its effect is the decision.
    const reason = rule[2] === (allowed ? 'allow' : 'deny') ? rule[1] : undefined;
    if (allowed) {
      const r = (ALLOW_REASONS as readonly string[]).includes(reason ?? '') ? (reason as AllowReason) : 'GRANT';
      const grant = r === 'GRANT' && ds !== null ? enforcer.index.grantInForce(caller.agency, ds.id, sub.purpose, now) : undefined;
      return { decision: { effect: 'ALLOW', reason: r, dataset: ds, grantId: grant?.[0] ?? null }, rule: reason === undefined ? [] : rule };
    }
    const r = (DENY_REASONS as readonly string[]).includes(reason ?? '') ? (reason as DenyReason) : null;
    const unmet = r === 'ROLE_REQUIRED' ? enforcer.index.rolesUnmet(obj.id, coordinate, caller.agency, caller.roles) : [];
    return { decision: { effect: 'DENY', reason: r ?? 'NOT_SHARED', dataset: ds, remedy: remedyFor(r, ds, caller, unmet) }, rule: r === null ? [] : rule };
  };

  // True when decisions cached now hold at `now`; moves the version when real time crossed a boundary.
  const inWindow = (now: number): boolean => {
    if (now >= window.from && now < window.until) return true;
    if (Math.abs(now - clock()) < 1000 && now >= window.until) {
      changed('a grant, agreement or suspension started or ended');
      return now >= window.from && now < window.until;
    }
    return false;
  };

  const at = (ptype: PolicyType, rule: readonly string[]): string => {
    const s = sources.get(rule);
    const where = s === undefined ? '(unknown source)' : whereOf(s);
    const basis = s !== undefined && s.line > 0 && (ptype === 'p2' || ptype === 'p3') ? `  [standing, legal basis: ${rule[rule.length - 1]}]` : '';
    return `${where}: ${lineText(ptype, rule)}${basis}`;
  };

  return {
    store,
    get version() {
      inWindow(clock());
      return version;
    },
    decide(caller, coordinate, now = clock()) {
      // A question about another time than now is answered, not cached.
      if (!inWindow(now)) return enforce(caller, coordinate, now).decision;
      const key = `${caller.agency}\u0000${caller.roles.join(',')}\u0000${caller.purpose ?? ''}\u0000${coordinate}`;
      let d = cache.get(key);
      if (d === undefined) {
        d = enforce(caller, coordinate, now).decision;
        cache.set(key, d);
      }
      return d;
    },
    now: clock,
    evaluate(caller, coordinate, now) {
      return enforce(caller, coordinate, now).decision;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async explain(caller, coordinate, now = clock()) {
      await applying;
      const { decision, rule } = enforce(caller, coordinate, now);
      const lines: string[] = [];
      const reason = rule[1];
      if (reason === undefined) {
        lines.push('no decision rule holds: denied by the policy effect (model.conf [policy_effect])');
      } else {
        const modelFile = `${path.basename(opts.policyDir)}/model.conf`;
        modelText.split('\n').forEach((l, i) => {
          if (l.includes(`p.reason == "${reason}"`)) lines.push(`${modelFile}:${i + 1}: ${l.trim().replace(/\s*\\$/, '')}`);
        });
        lines.push(at('p', rule));
      }
      const ds = decision.dataset;
      const purpose = caller.purpose ?? '';
      const index = enforcer.index;
      for (const l of index.reservationsOf(ds?.id ?? '', coordinate)) lines.push(at('p5', l));
      if (ds !== null && ds.provider !== caller.agency) {
        const suspension = index.suspensionInForce(caller.agency, ds.id, now);
        if (suspension !== undefined) lines.push(at('p4', suspension));
        if (ds.class === 'CONDITIONAL' && purpose !== '') {
          const grant = index.grantInForce(caller.agency, ds.id, purpose, now);
          if (grant !== undefined) lines.push(at('p2', grant));
          else for (const g of index.grantsFor(caller.agency, ds.id)) lines.push(`${at('p2', g)} (does not cover this purpose at this time)`);
          if (grant !== undefined && ds.sensitivity !== null) {
            const agreement = index.agreementInForce(caller.agency, ds.provider, ds.id, now, ds.sensitivity === 'STATE_SECRET');
            lines.push(agreement !== undefined ? at('p3', agreement) : `no confidentiality agreement between ${caller.agency} and ${ds.provider} covers ${ds.id} now`);
          }
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
