import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openGrantStore, type Agreement, type Grant } from '../../ledger/grants.ts';
import { AGENCY_CODES, PURPOSE_CODES } from '../../common/vocabulary.ts';
import type { Catalog } from './types.ts';

/** A policy line as Casbin holds it, with where it came from for `explain` and error messages. */
export interface SourcedRule {
  readonly ptype: 'p' | 'p2';
  readonly rule: readonly string[];
  /** e.g. "policies/grants.csv" */
  readonly file: string;
  readonly line: number;
}

export function whereOf(r: SourcedRule): string {
  return `${r.file}:${r.line}`;
}

export interface PolicyFiles {
  readonly modelText: string;
  readonly rules: readonly SourcedRule[];
  readonly problems: readonly string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function validTime(text: string): boolean {
  return DATE.test(text) && !Number.isNaN(Date.parse(text));
}

/**
 * Why a grant line must be refused, or null. A line may never open a NOT_SHARED dataset to a
 * non-provider; every name must be one the catalog, the agency list and the purpose codes know.
 */
export function grantProblem(catalog: Catalog, consumer: string, dataset: string, purpose: string, from: string, until: string): string | null {
  if (!AGENCY_CODES.has(consumer)) return `unknown consumer agency "${consumer}"`;
  const ds = catalog.datasets.get(dataset);
  if (ds === undefined) return `unknown dataset "${dataset}"`;
  if (ds.class === 'NOT_SHARED' && ds.provider !== consumer) return `dataset ${dataset} is NOT_SHARED: no grant can open it to ${consumer} (R-4)`;
  if (purpose !== '*' && !PURPOSE_CODES.has(purpose)) return `unknown purpose code "${purpose}"`;
  if (!validTime(from)) return `valid-from "${from}" is not an ISO date`;
  if (!validTime(until)) return `valid-until "${until}" is not an ISO date`;
  if (Date.parse(until) <= Date.parse(from)) return `valid-until ${until} is not after valid-from ${from}`;
  return null;
}

export function agreementProblem(catalog: Catalog, a: string, b: string, dataset: string, signedOn: string, until: string, filed: string): string | null {
  if (!AGENCY_CODES.has(a)) return `unknown agency "${a}"`;
  if (!AGENCY_CODES.has(b)) return `unknown agency "${b}"`;
  if (a === b) return 'an agreement needs two different agencies';
  if (dataset !== '*' && !catalog.datasets.has(dataset)) return `unknown dataset "${dataset}"`;
  if (!validTime(signedOn)) return `signed-on "${signedOn}" is not an ISO date`;
  if (!validTime(until)) return `valid-until "${until}" is not an ISO date`;
  if (filed !== 'true' && filed !== 'false') return `filed-with-secrecy-bureau must be true or false, got "${filed}"`;
  return null;
}

/** Parses one CSV policy text; problems name `file:line`. */
export function parsePolicyText(catalog: Catalog, text: string, file: string): { rules: SourcedRule[]; problems: string[] } {
  const rules: SourcedRule[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const cells = raw.split(',');
    for (let c = 0; c < cells.length; c++) cells[c] = cells[c]!.trim();
    const ptype = cells[0];
    const rest = cells.slice(1);
    let problem: string | null;
    if (ptype === 'p') {
      const [, consumer, dataset, purpose, from, until] = rest as [string, string, string, string, string, string];
      problem = rest.length !== 6
        ? `a grant line has 7 fields (p, id, consumer, dataset, purpose, valid from, valid until), found ${cells.length}`
        : grantProblem(catalog, consumer, dataset, purpose, from, until);
    } else if (ptype === 'p2') {
      const [, a, b, dataset, signedOn, until, filed] = rest as [string, string, string, string, string, string, string];
      problem = rest.length !== 7
        ? `an agreement line has 8 fields (p2, id, party, party, dataset, signed on, valid until, filed with secrecy bureau), found ${cells.length}`
        : agreementProblem(catalog, a, b, dataset, signedOn, until, filed);
    } else {
      problem = `unknown line type "${ptype}" (expected p for a grant or p2 for an agreement)`;
    }
    if (problem !== null) problems.push(`${file}:${i + 1}: ${problem}`);
    else rules.push({ ptype: ptype as 'p' | 'p2', rule: rest, file, line: i + 1 });
  }
  return { rules, problems };
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

/** Parses a policy's texts; problems name `<label>/<file>:<line>`. */
export function policyFromTexts(catalog: Catalog, texts: PolicyTexts, label: string): PolicyFiles {
  const problems: string[] = [];
  const modelText = texts['model.conf'];
  if (modelText === undefined) problems.push(`${label}/model.conf: missing`);
  const rules: SourcedRule[] = [];
  for (const f of Object.keys(texts).filter((n) => n.endsWith('.csv')).sort()) {
    const parsed = parsePolicyText(catalog, texts[f]!, `${label}/${f}`);
    rules.push(...parsed.rules);
    problems.push(...parsed.problems);
  }
  const ids = { p: new Map<string, SourcedRule>(), p2: new Map<string, SourcedRule>() };
  for (const r of rules) {
    const first = ids[r.ptype].get(r.rule[0]!);
    // One grant may span several lines (one per purpose) only within one file.
    if (first === undefined) ids[r.ptype].set(r.rule[0]!, r);
    else if (first.file !== r.file) problems.push(`${whereOf(r)}: id ${r.rule[0]} is already used at ${whereOf(first)}`);
  }
  return { modelText: modelText ?? '', rules, problems };
}

/** Reads model.conf and every *.csv in the policy directory. */
export function readPolicyDir(catalog: Catalog, dir: string): PolicyFiles & { texts: PolicyTexts } {
  const { texts, problems } = readPolicyTexts(dir);
  const policy = policyFromTexts(catalog, texts, path.basename(dir));
  return { ...policy, texts, problems: [...problems, ...policy.problems] };
}

/** The Casbin lines a filed grant or agreement stands for. */
export function grantRules(g: Grant): string[][] {
  return g.purposes.map((purpose) => [g.id, g.consumer, g.dataset, purpose, g.validFrom, g.validUntil]);
}

export function agreementRules(a: Agreement): string[][] {
  return a.datasets.map((d) => [a.id, a.parties[0], a.parties[1], d, a.signedOn, a.validUntil, String(a.filedWithSecrecyBureau)]);
}

/**
 * Datasets that grants in force at `now` name, as a gateway over `catalog` would load them: the
 * valid lines of the policy files and the grants in the authority's store.
 */
export async function activeGrantedDatasets(
  catalog: Catalog,
  config: { policyDir: string; dataDir: string; redisUrl: string | null; redisPrefix: string },
  now: number,
): Promise<Set<string>> {
  const granted = new Set<string>();
  const inForce = (from: string, until: string): boolean => Date.parse(from) <= now && now < Date.parse(until);
  for (const r of readPolicyDir(catalog, config.policyDir).rules) {
    const [, , dataset, , from, until] = r.rule as [string, string, string, string, string, string];
    if (r.ptype === 'p' && inForce(from, until)) granted.add(dataset);
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
