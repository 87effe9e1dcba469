import type { RequestObject, SharingEnforcer } from './enforcer.ts';
import { lineText, whereOf, type PolicyType } from './policy-files.ts';
import type { Sources } from './store-lines.ts';
import { ALLOW_REASONS, DENY_REASONS, type AllowReason, type Caller, type Catalog, type Dataset, type Decision, type DenyReason } from './types.ts';

/** Who may read a reserved field, from its unmet reservations: "role auditor", "role coordinator of itd". */
function reservedTo(unmet: readonly (readonly string[])[]): string {
  const who = [...new Set(unmet.map((l) => `${l[1]}${l[2] === '*' ? '' : ` of ${l[2]}`}`))];
  return who.length === 0 ? 'a role' : `role ${who.join(' or ')}`;
}

function remedyFor(reason: DenyReason | null, ds: Dataset | null, caller: Caller, unmetRoles: readonly (readonly string[])[] = []): string {
  switch (reason) {
    case null:
      return 'No rule of the sharing policy allows this read: ask the data provider or the authority.';
    case 'ROLE_REQUIRED':
      return `Reading this field needs ${reservedTo(unmetRoles)}: ask your agency for a token with it.`;
    case 'NOT_SHARED':
      return `Dataset ${ds?.id} is not shared (R-4): only ${ds?.provider} reads it; no grant can open it.`;
    case 'NOT_CATALOGUED':
      // A sharing request names catalogued datasets only, so the way in is the demand register.
      return 'This field belongs to no catalogued dataset: ask the agency that holds the data for it (Mutation.requestUncatalogued; it answers within 15 working days), or record the need in the authority\'s demand register (Mutation.recordDemand) for the authority to match it to a catalogued dataset or have its holder catalog it (Art. 12–13, R-21).';
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

/** What the enforcer is asked about a field: its dataset as the catalog declares it, or KEY / UNCLASSIFIED. */
export function requestObject(catalog: Catalog, unclassified: 'deny' | 'allow', coordinate: string): RequestObject {
  const ds = catalog.byCoordinate.get(coordinate);
  if (ds !== undefined) return { coordinate, id: ds.id, provider: ds.provider, class: ds.class, sensitivity: ds.sensitivity ?? '', unclassified };
  const dot = coordinate.indexOf('.');
  const key = catalog.keyFields.get(coordinate.slice(0, dot))?.includes(coordinate.slice(dot + 1)) === true;
  return { coordinate, id: '', provider: '', class: key ? 'KEY' : 'UNCLASSIFIED', sensitivity: '', unclassified };
}

/**
 * The one decision every path makes (reads, mayRead, explain): Casbin's answer over model.conf and
 * the lines in force, as a Decision whose reason is the deciding rule's name, with the rule line.
 */
export function decideWith(
  enforcer: SharingEnforcer,
  catalog: Catalog,
  unclassified: 'deny' | 'allow',
  caller: Caller,
  coordinate: string,
  now: number,
  log: (line: string) => void,
): { decision: Decision; rule: readonly string[] } {
  const ds = catalog.byCoordinate.get(coordinate) ?? null;
  const sub = { agency: caller.agency, purpose: caller.purpose ?? '', roles: caller.roles };
  const obj = requestObject(catalog, unclassified, coordinate);
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
}

/**
 * The lines that made a decision, each as "<source>: <line>": the model.conf condition of the
 * deciding rule, the rule line, and the reservation, suspension, grant and agreement lines it looked up.
 */
export function explainLines(
  enforcer: SharingEnforcer,
  sources: Sources,
  model: { readonly file: string; readonly text: string },
  caller: Caller,
  coordinate: string,
  now: number,
  made: { decision: Decision; rule: readonly string[] },
): string[] {
  const at = (ptype: PolicyType, rule: readonly string[]): string => {
    const s = sources.get(rule);
    const where = s === undefined ? '(unknown source)' : whereOf(s);
    const basis = s !== undefined && s.line > 0 && (ptype === 'p2' || ptype === 'p3') ? `  [standing, legal basis: ${rule[rule.length - 1]}]` : '';
    return `${where}: ${lineText(ptype, rule)}${basis}`;
  };
  const lines: string[] = [];
  const reason = made.rule[1];
  if (reason === undefined) {
    lines.push('no decision rule holds: denied by the policy effect (model.conf [policy_effect])');
  } else {
    model.text.split('\n').forEach((l, i) => {
      if (l.includes(`p.reason == "${reason}"`)) lines.push(`${model.file}:${i + 1}: ${l.trim().replace(/\s*\\$/, '')}`);
    });
    lines.push(at('p', made.rule));
  }
  const ds = made.decision.dataset;
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
  return lines;
}
