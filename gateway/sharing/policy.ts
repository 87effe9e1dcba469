import path from 'node:path';
import { PURPOSE_CODES, ROLES } from '../../common/vocabulary.ts';
import { openGrantStore, type GrantChange, type GrantStore } from '../../ledger/grants.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { referenceDirectory, type MemberDirectory } from '../../ledger/members.ts';
import { DEFAULT_EXCHANGE_REGION } from '../../common/config-values.ts';
import { DecisionCache } from './decision-cache.ts';
import { decideWith, explainLines } from './decide.ts';
import { buildEnforcer, type RequestObject, type SharingEnforcer } from './enforcer.ts';
import { watchPolicyDir } from './hot-reload.ts';
import { lineText, policyFromTexts, readPolicyDir, type PolicyFiles, type PolicyTexts, type PolicyType } from './policy-files.ts';
import { modelLines, newestChange, revisionId, RevisionTracker, type PolicyRevisionRecord } from './revisions.ts';
import { snapshotChanges, storeEntry, StoreLines, storeSource, verdictText, type Sources } from './store-lines.ts';
import type { Caller, Catalog, Decision } from './types.ts';

export type { PolicyRevisionRecord } from './revisions.ts';

/**
 * Sharing decisions (docs/policies.md): Casbin's enforcer over policies/model.conf and its lines
 * decides every read, reason included. In front of it, decisions are cached per (agency, roles,
 * purpose, coordinate) for one policy revision and one validity window (./decision-cache.ts).
 */
export interface SharingPolicy {
  /**
   * `catalog`: the catalog of the supergraph version the request runs on (a request keeps its
   * version to the end); absent, the newest one the policy follows.
   */
  decide(caller: Caller, coordinate: string, now?: number, catalog?: Catalog): Decision;
  /** Casbin's answer without the cache in front of it (policy tests, benchmarks). */
  evaluate(caller: Caller, coordinate: string, now: number): Decision;
  /** Moves on every policy, grant, agreement or suspension change, and when a validity boundary passes. */
  readonly version: number;
  /** The version decisions made at `now` belong to, moving it first if a validity boundary has passed. */
  versionAt(now: number): number;
  /** The time decisions are made at now (the injected clock). */
  now(): number;
  onChange(listener: (why: string) => void): () => void;
  /** The decision with the model.conf lines and policy lines (file:line) that made it. */
  explain(caller: Caller, coordinate: string, now?: number, catalog?: Catalog): Promise<{ decision: Decision; lines: string[] }>;
  /**
   * A new supergraph version's catalog: the policy files and the authority's lines are checked
   * against it again and the policy rebuilt, all or nothing. Throws (keeping the policy in force)
   * when the policy cannot run on it, e.g. it would open a NOT_SHARED dataset of the new version.
   */
  useCatalog(catalog: Catalog): Promise<void>;
  /** The authority's grant store this policy follows. */
  readonly store: GrantStore;
  close(): Promise<void>;
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
  /**
   * The exchange's members, live (the gateway's directory): lines naming anyone else are refused.
   * Absent: the reference members (tools and tests that start from no ledger state).
   */
  readonly members?: MemberDirectory & { sync?(): Promise<void> };
}

/**
 * No policy may let anyone but the provider read NOT_SHARED data, however model.conf and
 * the rules are written: asked of the enforcer itself, for every agency, purpose and role.
 */
function openingProblem(catalog: Catalog, members: MemberDirectory, unclassified: 'deny' | 'allow', e: SharingEnforcer, now: number): string | null {
  const agencies = members.list().map((m) => m.code);
  for (const ds of catalog.datasets.values()) {
    if (ds.class !== 'NOT_SHARED') continue;
    for (const agency of agencies) {
      if (agency === ds.provider) continue;
      for (const purpose of ['', ...PURPOSE_CODES]) {
        for (const roles of [[], [...ROLES]]) {
          for (const coordinate of ds.coordinates) {
            const obj: RequestObject = { coordinate, id: ds.id, provider: ds.provider, class: ds.class, sensitivity: ds.sensitivity ?? '', unclassified };
            if (e.enforce({ agency, purpose, roles }, obj, now)[0]) return `the policy would let ${agency} read NOT_SHARED dataset ${ds.id} (R-4)`;
          }
        }
      }
    }
  }
  return null;
}

/** The policy in force: the files it came from, its enforcer, and where each line came from. */
interface Installed {
  readonly files: PolicyFiles;
  readonly enforcer: SharingEnforcer;
  readonly sources: Sources;
}

export async function openSharingPolicy(opts: SharingPolicyOptions): Promise<SharingPolicy> {
  const log = opts.log ?? (() => undefined);
  const clock = opts.now ?? Date.now;
  // The newest supergraph version's catalog: what lines are checked against (useCatalog moves it).
  let catalog = opts.catalog;
  const members = opts.members ?? referenceDirectory(DEFAULT_EXCHANGE_REGION);
  const initial = readPolicyDir(catalog, members, opts.policyDir);
  if (initial.problems.length > 0) {
    throw new Error(`policy files refused: ${initial.problems.join('; ')}`);
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

  // Revisions. With Redis the policy is shared: the newer of this directory and the last revision
  // any instance published runs at start, and every change picked up later is published to all.
  const shared = store.kind === 'redis';
  const local = { files: initial, id: revisionId(initial.texts) }; // what POLICY_DIR holds, as last read
  let currentId = local.id; // what runs
  let starting: PolicyFiles = initial;
  // The texts of the policy in force, parsed again when the catalog changes.
  let installedTexts: { texts: PolicyTexts; label: string } = { texts: initial.texts, label: path.basename(opts.policyDir) };
  let startOrigin: PolicyRevisionRecord['origin'] = 'file';
  const revision = shared ? (await store.snapshot()).policy : null;
  if (revision !== null && revision.id !== local.id && Date.parse(revision.at) > newestChange(opts.policyDir, initial.texts)) {
    const name = `revision ${revision.id.slice(0, 8)}`;
    const adopted = policyFromTexts(catalog, members, revision.texts, name);
    if (adopted.problems.length === 0) {
      starting = adopted;
      installedTexts = { texts: revision.texts, label: name };
      currentId = revision.id;
      startOrigin = `instance:${revision.by}`;
      log(`policy: running ${name} published by ${revision.by} at ${revision.at}, newer than ${opts.policyDir}`);
    } else {
      for (const p of adopted.problems) log(`policy: shared ${name} refused, running ${opts.policyDir}: ${p}`);
    }
  }
  const publish = async (): Promise<void> => {
    if (!shared || currentId !== local.id || (await store.snapshot()).policy?.id === local.id) return;
    await store.apply({ op: 'policy', revision: { id: local.id, by: opts.instance ?? 'gateway', at: new Date(clock()).toISOString(), texts: local.files.texts } });
  };

  const storeLines = new StoreLines();
  const revisions = new RevisionTracker(opts.onRevision, clock, log);
  let installed!: Installed;
  const record = (origin: PolicyRevisionRecord['origin']): void =>
    revisions.record(origin, () => new Set<string>([...modelLines(installed.files.modelText), ...installed.files.rules.map((r) => lineText(r.ptype, r.rule)), ...storeLines.texts()]));
  const cache = new DecisionCache(clock, (now) => installed.enforcer.index.window(now));

  // Builds a fresh enforcer from the files and the store: at start and on every new policy.
  const build = async (next: PolicyFiles, catalog: Catalog): Promise<Installed> => {
    const all: { ptype: PolicyType; rule: readonly string[] }[] = next.rules.slice();
    const sources: Sources = new Map();
    for (const r of next.rules) sources.set(r.rule, r);
    storeLines.clear();
    for (const c of snapshotChanges(await store.snapshot())) {
      const entry = storeEntry(catalog, members, c)!;
      if (entry.verdict !== null) {
        log(`${entry.label} from the authority's store ${verdictText(entry)}`);
        continue;
      }
      storeLines.set(entry);
      for (const r of entry.rules) {
        all.push({ ptype: entry.ptype, rule: r });
        sources.set(r, storeSource(entry.ptype, entry.label));
      }
    }
    const enforcer = await buildEnforcer(next.modelText, all, catalog.entries);
    let problem: string | null;
    try {
      problem = openingProblem(catalog, members, opts.unclassified, enforcer, clock());
    } catch (err) {
      problem = `model.conf cannot decide: ${(err as Error).message}`;
    }
    if (problem !== null) throw new Error(problem);
    return { files: next, enforcer, sources };
  };

  // Grant sync. Subscribed before the first snapshot is read, so no change can fall between the
  // two (one that both carry is applied twice, which changes nothing). Changes apply in arrival
  // order, once the first build is in place.
  let ready!: () => void;
  let applying = new Promise<void>((resolve) => (ready = resolve));
  const unsubscribe = store.subscribe((change) => {
    applying = applying.then(() => applyChange(change)).catch((e: unknown) => log(`policy change failed: ${(e as Error).message}`));
  });
  try {
    installed = await build(starting, catalog);
  } catch (e) {
    unsubscribe();
    await store.close();
    throw new Error(`policy refused: ${(e as Error).message}`, { cause: e });
  }
  report(starting.ignored);
  cache.start();
  record(startOrigin);
  await publish();

  // Incremental: one grant, agreement or suspension added or ended changes its lines only.
  const applyChange = async (change: GrantChange): Promise<void> => {
    switch (change.op) {
      case 'policy': {
        const r = change.revision;
        if (r.id === currentId) return;
        const label = `revision ${r.id.slice(0, 8)}`;
        await install(policyFromTexts(catalog, members, r.texts, label), { texts: r.texts, label }, r.id, `${label} published by ${r.by}`, `instance:${r.by}`);
        return;
      }
      case 'grant':
      case 'agreement':
      case 'suspension': {
        // The members' fold follows the ledger on its own: make sure it has every member the
        // change may name (registered before it) before the line is judged.
        await opts.members?.sync?.();
        const entry = storeEntry(catalog, members, change)!;
        if (entry.verdict !== null) {
          log(`${entry.label} ${verdictText(entry)}`);
          return;
        }
        await storeLines.apply(installed.enforcer, installed.sources, entry);
        cache.changed(`${entry.label} added`);
        record('workflow');
        return;
      }
      case 'revoke-grant':
      case 'revoke-agreement':
      case 'lift-suspension': {
        const ptype = change.op === 'revoke-grant' ? 'p2' : change.op === 'revoke-agreement' ? 'p3' : 'p4';
        if (!storeLines.has(ptype, change.id)) return;
        await storeLines.remove(installed.enforcer, installed.sources, ptype, change.id);
        cache.changed(`${change.op} ${change.id}`);
        record('workflow');
        return;
      }
    }
  };
  ready();

  // A whole new policy, from this directory or from another instance: all-or-nothing, the last
  // good policy stays on any problem. True when installed.
  const install = async (next: PolicyFiles, texts: typeof installedTexts, id: string, from: string, origin: PolicyRevisionRecord['origin']): Promise<boolean> => {
    if (next.problems.length > 0) {
      for (const p of next.problems) log(`policy ${from} refused, keeping the last good policy: ${p}`);
      return false;
    }
    try {
      installed = await build(next, catalog);
    } catch (e) {
      log(`policy ${from} refused, keeping the last good policy: ${(e as Error).message}`);
      // build() refilled the store lines for the refused policy; they are the same lines.
      return false;
    }
    installedTexts = texts;
    currentId = id;
    report(next.ignored);
    cache.changed(`policy ${from} installed`);
    log(`policy ${from} installed: ${next.rules.length} lines`);
    record(origin);
    return true;
  };

  // Hot reload of the policy files.
  const watcher = watchPolicyDir(opts.policyDir, opts.reloadDelayMs ?? 100, () => {
    applying = applying.then(async () => {
      const next = readPolicyDir(catalog, members, opts.policyDir);
      const id = revisionId(next.texts);
      // Unchanged files (a touch, or a revision adopted from another instance) change nothing,
      // but a publish that failed before is tried again.
      if (id === currentId || id === local.id) return publish();
      if (await install(next, { texts: next.texts, label: path.basename(opts.policyDir) }, id, `from ${opts.policyDir}`, 'file')) {
        local.files = next;
        local.id = id;
        await publish();
      }
    }).catch((e: unknown) => {
      // The chain must never hold a rejection: it would be unhandled (ending the process) and every
      // later change, explain and close would be skipped or fail with it.
      log(`policy from ${opts.policyDir} runs here but is not published to the other gateways (published at the next change or touch of a policy file): ${(e as Error).message}`);
    });
  }, log);

  const enforce = (caller: Caller, coordinate: string, now: number, cat: Catalog = catalog) => decideWith(installed.enforcer, cat, opts.unclassified, caller, coordinate, now, log);

  // Decisions of different catalogs never share a cache entry: one coordinate may belong to
  // another dataset, or to none, in another supergraph version.
  const catalogTags = new WeakMap<Catalog, number>();
  let nextTag = 1;
  const tagOf = (cat: Catalog): number => {
    let tag = catalogTags.get(cat);
    if (tag === undefined) {
      tag = nextTag++;
      catalogTags.set(cat, tag);
    }
    return tag;
  };

  return {
    store,
    get version() {
      return cache.version;
    },
    versionAt(now) {
      cache.holdsAt(now);
      return cache.version;
    },
    now: clock,
    decide(caller, coordinate, now = clock(), cat = catalog) {
      // A question about another time than now is answered, not cached.
      if (!cache.holdsAt(now)) return enforce(caller, coordinate, now, cat).decision;
      const key = `${tagOf(cat)}\u0000${caller.agency}\u0000${caller.roles.join(',')}\u0000${caller.purpose ?? ''}\u0000${coordinate}`;
      let d = cache.get(key);
      if (d === undefined) {
        d = enforce(caller, coordinate, now, cat).decision;
        cache.set(key, d);
      }
      return d;
    },
    evaluate(caller, coordinate, now) {
      return enforce(caller, coordinate, now).decision;
    },
    onChange(listener) {
      return cache.onChange(listener);
    },
    async explain(caller, coordinate, now = clock(), cat = catalog) {
      await applying;
      const made = enforce(caller, coordinate, now, cat);
      const model = { file: `${path.basename(opts.policyDir)}/model.conf`, text: installed.files.modelText };
      return { decision: made.decision, lines: explainLines(installed.enforcer, installed.sources, model, caller, coordinate, now, made) };
    },
    async useCatalog(next) {
      if (next === catalog) return;
      const step = applying.then(async () => {
        const files = policyFromTexts(next, members, installedTexts.texts, installedTexts.label);
        if (files.problems.length > 0) throw new Error(`the policy in force does not hold on it: ${files.problems.join('; ')}`);
        let built: Installed;
        try {
          built = await build(files, next);
        } catch (e) {
          // build() refilled the store lines for the refused catalog: fill them again for the one in force.
          await build(installed.files, catalog).then((b) => (installed = b)).catch(() => undefined);
          throw new Error(`the policy cannot run on it: ${(e as Error).message}`, { cause: e });
        }
        installed = built;
        catalog = next;
        report(files.ignored);
        cache.changed('a new supergraph version');
        record('workflow');
      });
      // The chain goes on whatever this step's outcome; the caller hears of a refusal.
      applying = step.catch(() => undefined);
      await step;
    },
    async close() {
      unsubscribe();
      watcher.close();
      await applying;
      await store.close();
    },
  };
}
