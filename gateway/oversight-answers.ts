import { auditorScope, policyLineWithinParty, withinParty } from '../common/auditor-scope.ts';
import { exchangeError } from '../common/errors.ts';
import { PURPOSE_CODES, ROLES } from '../common/vocabulary.ts';
import { verifyLedger } from '../ledger/ledger.ts';
import type { MemberDirectory } from '../ledger/members.ts';
import { buildBundle } from './audit/bundle.ts';
import { auditLogReader, readAuditRecords, type AuditLocation } from '../ledger/audit-reader.ts';
import { verifyAuditLog, type LogTrust, type Verification } from './audit/verify.ts';
import { coordinateProblem } from './may-read.ts';
import type { Caller, Decision } from './sharing/types.ts';
import type { GraphQLSchema } from 'graphql';

/**
 * Root fields the gateway answers itself for auditors and policy maintainers (docs/policies.md, docs/audit.md,
 * §10): the chain status `audit -- verify` reports, a signed export as `audit -- export` writes
 * it, and `policy -- explain`. Each is a field of the exchange's schema, decided and audited like
 * any other; the role checks here come on top.
 */
export const OVERSIGHT_FIELDS = ['auditChainStatus', 'auditExport', 'explainDecision'] as const;

export interface OversightAnswerOptions {
  /** Where the logs are, and the log key and witnesses their status is checked with. */
  readonly location: AuditLocation & LogTrust;
  readonly explain: (caller: Caller, coordinate: string) => Promise<{ decision: Decision; lines: string[] }>;
  /** The exchange's members: explainDecision answers for a member's agency only. */
  readonly members: MemberDirectory;
}

function roleRequired(caller: Caller, coordinate: string, roles: readonly string[]): void {
  if (roles.some((r) => caller.roles.includes(r))) return;
  const who = roles.join(' or ');
  throw exchangeError('FORBIDDEN', `${coordinate} is for principals with role ${who}.`, {
    sharing: { coordinate, dataset: coordinate === 'Query.explainDecision' ? 'itd.sharing-catalog' : 'itd.audit-log', provider: 'itd', class: 'UNCONDITIONAL', reason: 'ROLE_REQUIRED', remedy: `Ask your agency for a token with role ${who}.` },
  });
}

// `where` can name a file of the store: left to the CLI, which runs on the operator's machine.
function chain(log: 'audit' | 'ledger', v: Verification) {
  const bad = v.firstBad;
  return { log, intact: v.ok, chains: v.chains, records: v.records, problem: bad === null ? null : `${bad.chain}${bad.seq === null ? '' : ` seq ${bad.seq}`}: ${bad.why}`, notes: v.notes };
}

function isoOrNull(name: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (Number.isNaN(Date.parse(value))) throw exchangeError('BAD_USER_INPUT', `${name} must be an ISO time or date, e.g. 2026-01-01, got "${value.slice(0, 40)}".`, { argument: name });
  return new Date(value).toISOString();
}

export function oversightAnswers(schema: GraphQLSchema, caller: Caller, opts: OversightAnswerOptions) {
  return {
    auditChainStatus: async () => {
      roleRequired(caller, 'Query.auditChainStatus', ['auditor']);
      const logs = [chain('audit', await verifyAuditLog(opts.location)), chain('ledger', await verifyLedger(opts.location))];
      return { intact: logs.every((l) => l.intact), logs };
    },
    auditExport: async (args: { since?: string | null; until?: string | null }) => {
      roleRequired(caller, 'Query.auditExport', ['auditor']);
      const since = isoOrNull('since', args.since);
      const until = isoOrNull('until', args.until);
      const reader = auditLogReader(opts.location);
      let all;
      try {
        all = await readAuditRecords(reader);
      } finally {
        await reader.close();
      }
      // Outside an agency auditor's scope, records travel redacted: the chain still verifies.
      const { party } = auditorScope(caller.agency);
      return JSON.stringify(buildBundle(opts.location.dataDir, all, since, until, (r) => withinParty(r, party)));
    },
    explainDecision: async (args: { agency: string; coordinate: string; purpose?: string | null; roles?: readonly string[] | null }) => {
      roleRequired(caller, 'Query.explainDecision', ['policy-maintainer', 'auditor']);
      const agency = opts.members.resolve(args.agency);
      if (agency === null) throw exchangeError('BAD_USER_INPUT', `explainDecision: agency "${args.agency.slice(0, 32)}" is not a member of this exchange; use one of ${opts.members.list().map((m) => m.code).join(', ')}.`, { argument: 'agency' });
      const purpose = args.purpose === undefined || args.purpose === null || args.purpose === '' ? null : args.purpose;
      if (purpose !== null && !PURPOSE_CODES.has(purpose)) throw exchangeError('BAD_USER_INPUT', `explainDecision: purpose "${purpose.slice(0, 64)}" is not a purpose code of the catalog; use one of ${[...PURPOSE_CODES].join(', ')}.`, { argument: 'purpose' });
      const roles = args.roles ?? [];
      const badRole = roles.find((r) => !ROLES.has(r));
      if (badRole !== undefined) throw exchangeError('BAD_USER_INPUT', `explainDecision: role "${badRole.slice(0, 32)}" is not one of ${[...ROLES].join(', ')}.`, { argument: 'roles' });
      const problem = coordinateProblem(schema, args.coordinate);
      if (problem !== null) throw exchangeError('BAD_USER_INPUT', `explainDecision: coordinate "${args.coordinate.slice(0, 128)}" ${problem}.`, { argument: 'coordinate' });
      const { decision, lines } = await opts.explain({ sub: `explain-by-${caller.sub}`, agency, roles: [...roles].sort(), purpose }, args.coordinate);
      // Outside the authority, the grant, agreement and suspension lines shown are those the
      // asker's agency is party to, as Query.grants shows them. Each line reads "<source>: <line>".
      const { party } = auditorScope(caller.agency);
      const shown = lines.filter((l) => policyLineWithinParty(l.slice(l.indexOf(': ') + 2), party));
      if (shown.length < lines.length) shown.push(`${lines.length - shown.length} line(s) concerning other agencies' grants, agreements or suspensions not shown`);
      return { decision: decision.effect, reason: decision.reason, remedy: decision.effect === 'DENY' ? decision.remedy : null, lines: shown };
    },
  };
}
