import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openGrantStore, type Agreement, type Grant, type Suspension } from '../../ledger/grants.ts';
import { PURPOSE_CODES, ROLES } from '../../common/vocabulary.ts';
import { readMembers, type MemberDirectory } from '../../ledger/members.ts';
import { DEFAULT_EXCHANGE_REGION } from '../../common/config-values.ts';
import { cataloguedPurposes } from '../../common/catalogued-purposes.ts';
import { GRANT_COLUMNS, GRANT_LINE_WIDTH, grantOfCells, policyLineCells } from '../../common/grant-lines.ts';
import { ALLOW_REASONS, DENY_REASONS, type Catalog } from './types.ts';

/** The policy types of model.conf: decision rules, grants, agreements, suspensions, role reservations. */
export type PolicyType = 'p' | 'p2' | 'p3' | 'p4' | 'p5';

/** A policy line as Casbin holds it, with where it came from for `explain` and error messages. */
export interface SourcedRule {
  readonly ptype: PolicyType;
  readonly rule: readonly string[];
  /** e.g. "policies/grants.csv", or "grant g-1 (request r-1)" for a line from the authority's store */
  readonly file: string;
  /** 0 for a line that does not come from a file */
  readonly line: number;
}

export function whereOf(r: SourcedRule): string {
  return r.line === 0 ? r.file : `${r.file}:${r.line}`;
}

/** A line as a maintainer would write it in a policy file ("p2, g-1, tax, ..."); suspensions as "s, ...". */
export function lineText(ptype: PolicyType, rule: readonly string[]): string {
  return `${ptype === 'p4' ? 's' : ptype}, ${rule.join(', ')}`;
}

export interface PolicyFiles {
  readonly modelText: string;
  readonly rules: readonly SourcedRule[];
  /** Problems that refuse the whole policy. */
  readonly problems: readonly string[];
  /** Lines ignored without refusing the policy (they name a dataset this supergraph lacks). */
  readonly ignored: readonly string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const parsedTimes = new Map<string, number>();

/** Date.parse, remembered: 100,000 grant lines name a few hundred distinct dates. */
export function timeOf(text: string): number {
  let t = parsedTimes.get(text);
  if (t === undefined) {
    t = Date.parse(text);
    if (parsedTimes.size > 100_000) parsedTimes.clear();
    parsedTimes.set(text, t);
  }
  return t;
}

const validTimes = new Map<string, boolean>();

function validTime(text: string): boolean {
  let ok = validTimes.get(text);
  if (ok === undefined) {
    ok = DATE.test(text) && !Number.isNaN(timeOf(text));
    if (validTimes.size > 100_000) validTimes.clear();
    validTimes.set(text, ok);
  }
  return ok;
}

/** A problem to report: `refuse` refuses the policy, `ignore` drops the line and says so. */
export type LineVerdict = { readonly refuse: string } | { readonly ignore: string } | null;

const CLASSES: ReadonlySet<string> = new Set(['UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED', 'KEY', 'UNCLASSIFIED', '*']);

/**
 * A line may name any member registered here, suspended or retired too: a retirement must not
 * refuse the policy files that still name it (its tokens are refused at the door).
 */
function isMember(members: MemberDirectory, code: string): boolean {
  return members.get(code) !== undefined;
}

/**
 * Why a decision-rule line must be refused. A rule's name is the reason callers see, so it must
 * be a reason of its effect; an allow rule that could apply to NOT_SHARED data other than the
 * provider's own read would open it.
 */
export function ruleProblem(cls: string, reason: string, eft: string): string | null {
  if (!CLASSES.has(cls)) return `unknown class "${cls}" (one of ${[...CLASSES].join(', ')})`;
  if (eft !== 'allow' && eft !== 'deny') return `effect must be allow or deny, got "${eft}"`;
  const allows = (ALLOW_REASONS as readonly string[]).includes(reason);
  const denies = (DENY_REASONS as readonly string[]).includes(reason);
  if (!allows && !denies) return `unknown rule name "${reason}" (a sharing reason: ${[...ALLOW_REASONS, ...DENY_REASONS].join(', ')})`;
  if (allows !== (eft === 'allow')) return `rule ${reason} must have effect ${allows ? 'allow' : 'deny'}`;
  if (eft === 'allow' && (cls === 'NOT_SHARED' || cls === '*') && reason !== 'PROVIDER') return `an allow rule ${reason} for class ${cls} would open NOT_SHARED datasets (R-4)`;
  return null;
}

/**
 * Why a grant line must be refused or ignored. A line may never open a NOT_SHARED dataset to a
 * non-provider; its purpose must be one the dataset's catalog entry lists.
 */
export function grantVerdict(catalog: Catalog, members: MemberDirectory, consumer: string, dataset: string, purpose: string, from: string, until: string): LineVerdict {
  if (!isMember(members, consumer)) return { refuse: `unknown consumer agency "${consumer}"` };
  const ds = catalog.datasets.get(dataset);
  if (ds === undefined) return { ignore: `dataset "${dataset}" is not in the supergraph's catalog: line ignored` };
  if (ds.class === 'NOT_SHARED' && ds.provider !== consumer) return { refuse: `dataset ${dataset} is NOT_SHARED: no grant can open it to ${consumer} (R-4)` };
  if (purpose !== '*' && !PURPOSE_CODES.has(purpose)) return { refuse: `unknown purpose code "${purpose}"` };
  const listed = cataloguedPurposes(dataset, catalog.entries);
  if (purpose !== '*' && listed !== null && !listed.includes(purpose)) {
    return { refuse: `purpose "${purpose}" is not catalogued for ${dataset} (catalogued: ${listed.join(', ') || 'none'}) (R-13, R-24)` };
  }
  if (!validTime(from)) return { refuse: `valid-from "${from}" is not an ISO date` };
  if (!validTime(until)) return { refuse: `valid-until "${until}" is not an ISO date` };
  if (timeOf(until) <= timeOf(from)) return { refuse: `valid-until ${until} is not after valid-from ${from}` };
  return null;
}

export function agreementVerdict(catalog: Catalog, members: MemberDirectory, a: string, b: string, dataset: string, signedOn: string, until: string, filed: string): LineVerdict {
  if (!isMember(members, a)) return { refuse: `unknown agency "${a}"` };
  if (!isMember(members, b)) return { refuse: `unknown agency "${b}"` };
  if (a === b) return { refuse: 'an agreement needs two different agencies' };
  if (!validTime(signedOn)) return { refuse: `signed-on "${signedOn}" is not an ISO date` };
  if (!validTime(until)) return { refuse: `valid-until "${until}" is not an ISO date` };
  if (filed !== 'true' && filed !== 'false') return { refuse: `filed-with-secrecy-bureau must be true or false, got "${filed}"` };
  if (dataset !== '*' && !catalog.datasets.has(dataset)) return { ignore: `dataset "${dataset}" is not in the supergraph's catalog: line ignored` };
  return null;
}

export function suspensionVerdict(catalog: Catalog, members: MemberDirectory, agency: string, dataset: string, from: string, until: string, reason: string): LineVerdict {
  if (!isMember(members, agency)) return { refuse: `unknown agency "${agency}"` };
  if (!validTime(from)) return { refuse: `from "${from}" is not an ISO date` };
  if (!validTime(until)) return { refuse: `until "${until}" is not an ISO date` };
  if (timeOf(until) <= timeOf(from)) return { refuse: `until ${until} is not after from ${from}` };
  if (reason === '') return { refuse: 'a suspension must give its reason (6th column)' };
  if (dataset !== '*' && !catalog.datasets.has(dataset)) return { ignore: `dataset "${dataset}" is not in the supergraph's catalog: line ignored` };
  return null;
}

/**
 * Why a role reservation must be refused or ignored. The target is a dataset or a field of the
 * catalog; a reservation naming neither reserves nothing here, like a grant for a dataset this
 * supergraph lacks.
 */
export function roleVerdict(catalog: Catalog, members: MemberDirectory, target: string, role: string, agency: string): LineVerdict {
  if (!ROLES.has(role)) return { refuse: `unknown role "${role}" (one of ${[...ROLES].join(', ')})` };
  if (agency !== '*' && !isMember(members, agency)) return { refuse: `unknown agency "${agency}" (an agency code or *)` };
  if (/^[_A-Za-z]\w*\.[_A-Za-z]\w*$/.test(target) && !catalog.datasets.has(target)) {
    return catalog.byCoordinate.has(target) ? null : { ignore: `field "${target}" is not catalogued in the supergraph: line ignored` };
  }
  if (!catalog.datasets.has(target)) return { ignore: `dataset "${target}" is not in the supergraph's catalog: line ignored` };
  return null;
}

/** The file letters and the model's policy types: suspensions are written `s` (docs/policies.md) and held as p4. */
const LETTERS: Readonly<Record<string, PolicyType>> = { p: 'p', p2: 'p2', p3: 'p3', s: 'p4', p5: 'p5' };

/**
 * Cells of one line. The last column of a grant or agreement (legal basis) and of a suspension
 * (reason) is free text and keeps its commas.
 */
function cellsOf(raw: string, ptype: PolicyType | undefined): string[] {
  return policyLineCells(raw, ptype === 'p2' ? GRANT_LINE_WIDTH : ptype === 'p3' ? 9 : ptype === 'p4' ? 6 : 0);
}

function verdictOf(catalog: Catalog, members: MemberDirectory, ptype: PolicyType, rest: readonly string[], cellCount: number): LineVerdict {
  switch (ptype) {
    case 'p': {
      if (rest.length !== 3) return { refuse: `a rule line has 4 fields (p, class, rule name, allow/deny), found ${cellCount}` };
      const problem = ruleProblem(rest[0]!, rest[1]!, rest[2]!);
      return problem === null ? null : { refuse: problem };
    }
    case 'p2': {
      const g = grantOfCells(rest);
      if (g === null) return { refuse: `a grant line has ${GRANT_LINE_WIDTH} fields (p2, ${GRANT_COLUMNS.join(', ')}), found ${cellCount}` };
      if (g.legalBasis === '') return { refuse: `a grant line in a policy file must name its legal basis (${GRANT_LINE_WIDTH}th column): only standing grants by law or regulation are written here; others go through a sharing request` };
      return grantVerdict(catalog, members, g.consumer, g.dataset, g.purpose, g.validFrom, g.validUntil);
    }
    case 'p3': {
      if (rest.length < 7) return { refuse: `an agreement line has 9 fields (p3, id, party, party, dataset, signed on, valid until, filed with secrecy bureau, legal basis), found ${cellCount}` };
      if (rest.length === 7 || rest[7] === '') return { refuse: 'an agreement line in a policy file must name its legal basis (9th column): the signed agreement it stands for' };
      return agreementVerdict(catalog, members, rest[1]!, rest[2]!, rest[3]!, rest[4]!, rest[5]!, rest[6]!);
    }
    case 'p4':
      if (rest.length !== 5) return { refuse: `a suspension line has 6 fields (s, agency, dataset or *, from, until, reason), found ${cellCount}` };
      return suspensionVerdict(catalog, members, rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[4]!);
    case 'p5':
      if (rest.length !== 3) return { refuse: `a role reservation has 4 fields (p5, dataset or Type.field, role, agency or *), found ${cellCount}` };
      return roleVerdict(catalog, members, rest[0]!, rest[1]!, rest[2]!);
  }
}

/** Parses one CSV policy text; problems and ignored lines name `file:line`. */
export function parsePolicyText(catalog: Catalog, members: MemberDirectory, text: string, file: string): { rules: SourcedRule[]; problems: string[]; ignored: string[] } {
  const rules: SourcedRule[] = [];
  const problems: string[] = [];
  const ignored: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.charCodeAt(0) === 35 /* # */) continue;
    const comma = raw.indexOf(',');
    const letter = (comma < 0 ? raw : raw.slice(0, comma)).trim();
    const ptype = LETTERS[letter];
    if (ptype === undefined) {
      problems.push(`${file}:${i + 1}: unknown line type "${letter}" (p a decision rule, p2 a grant, p3 an agreement, s a suspension, p5 a role reservation)`);
      continue;
    }
    const cells = cellsOf(raw, ptype);
    const rest = cells.slice(1);
    const verdict = verdictOf(catalog, members, ptype, rest, cells.length);
    if (verdict === null) rules.push({ ptype, rule: rest, file, line: i + 1 });
    else if ('refuse' in verdict) problems.push(`${file}:${i + 1}: ${verdict.refuse}`);
    else ignored.push(`${file}:${i + 1}: ${verdict.ignore}`);
  }
  return { rules, problems, ignored };
}

/** The texts of a policy directory by file name: model.conf and every *.csv. */
export type PolicyTexts = Readonly<Record<string, string>>;

export function readPolicyTexts(dir: string): { texts: PolicyTexts; problems: string[] } {
  const texts: Record<string, string> = {};
  const problems: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f === 'model.conf' || f.endsWith('.csv'));
  } catch {
    problems.push(`${dir}: policy directory cannot be read`);
  }
  for (const f of files.sort()) {
    try {
      texts[f] = readFileSync(path.join(dir, f), 'utf8');
    } catch {
      problems.push(`${path.basename(dir)}/${f}: cannot be read`);
    }
  }
  return { texts, problems };
}

/** Parses a policy's texts; problems name `<label>/<file>:<line>`. Decision rules keep file order, rules.csv first. */
export function policyFromTexts(catalog: Catalog, members: MemberDirectory, texts: PolicyTexts, label: string): PolicyFiles {
  const problems: string[] = [];
  const ignored: string[] = [];
  const modelText = texts['model.conf'];
  if (modelText === undefined) problems.push(`${label}/model.conf: missing`);
  let rules: SourcedRule[] = [];
  const csvs = Object.keys(texts).filter((n) => n.endsWith('.csv')).sort((a, b) => (a === 'rules.csv' ? -1 : b === 'rules.csv' ? 1 : a.localeCompare(b)));
  for (const f of csvs) {
    const parsed = parsePolicyText(catalog, members, texts[f]!, `${label}/${f}`);
    rules = rules.length === 0 ? parsed.rules : rules.concat(parsed.rules);
    for (const p of parsed.problems) problems.push(p);
    for (const p of parsed.ignored) ignored.push(p);
  }
  const ids = { p2: new Map<string, SourcedRule>(), p3: new Map<string, SourcedRule>() };
  for (const r of rules) {
    if (r.ptype !== 'p2' && r.ptype !== 'p3') continue;
    const first = ids[r.ptype].get(r.rule[0]!);
    // One grant may span several lines (one per purpose) only within one file.
    if (first === undefined) ids[r.ptype].set(r.rule[0]!, r);
    else if (first.file !== r.file) problems.push(`${whereOf(r)}: id ${r.rule[0]} is already used at ${whereOf(first)}`);
  }
  if (!rules.some((r) => r.ptype === 'p')) problems.push(`${label}: no decision rules (p lines, see rules.csv): every read would be denied`);
  return { modelText: modelText ?? '', rules, problems, ignored };
}

/** Reads model.conf and every *.csv in the policy directory. */
export function readPolicyDir(catalog: Catalog, members: MemberDirectory, dir: string): PolicyFiles & { texts: PolicyTexts } {
  const { texts, problems } = readPolicyTexts(dir);
  const policy = policyFromTexts(catalog, members, texts, path.basename(dir));
  return { ...policy, texts, problems: [...problems, ...policy.problems] };
}

/** The Casbin lines a filed grant, agreement or suspension stands for. */
export function grantRules(g: Grant): string[][] {
  const basis = g.requestId ? `sharing request ${g.requestId}` : 'filed with the authority';
  return g.purposes.map((purpose) => [g.id, g.consumer, g.dataset, purpose, g.validFrom, g.validUntil, basis]);
}

export function agreementRules(a: Agreement): string[][] {
  return a.datasets.map((d) => [a.id, a.parties[0], a.parties[1], d, a.signedOn, a.validUntil, String(a.filedWithSecrecyBureau), a.documentRef]);
}

export function suspensionRules(s: Suspension): string[][] {
  return [[s.agency, s.dataset, s.from, s.until, s.reason]];
}

/**
 * Datasets that grants in force at `now` name, as a gateway over `catalog` would load them: the
 * valid lines of the policy files and the grants in the authority's store.
 */
export async function activeGrantedDatasets(
  catalog: Catalog,
  config: { policyDir: string; dataDir: string; redisUrl: string | null; redisPrefix: string; region?: string; logSigningKey?: string | null },
  now: number,
): Promise<Set<string>> {
  const granted = new Set<string>();
  const inForce = (from: string, until: string): boolean => Date.parse(from) <= now && now < Date.parse(until);
  for (const r of readPolicyDir(catalog, await readMembers({ ...config, region: config.region ?? DEFAULT_EXCHANGE_REGION }), config.policyDir).rules) {
    const g = r.ptype === 'p2' ? grantOfCells(r.rule) : null;
    if (g !== null && inForce(g.validFrom, g.validUntil)) granted.add(g.dataset);
  }
  // The embedded ledger only exists once something was recorded; this does not create it.
  if (config.redisUrl === null && !existsSync(path.join(config.dataDir, 'ledger'))) return granted;
  const store = await openGrantStore(config);
  try {
    for (const g of (await store.snapshot()).grants.values()) if (inForce(g.validFrom, g.validUntil)) granted.add(g.dataset);
  } finally {
    await store.close();
  }
  return granted;
}
