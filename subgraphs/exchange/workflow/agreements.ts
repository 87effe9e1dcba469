import { GraphQLError } from 'graphql';
import type { SubgraphContext } from '../../kit/context.ts';
import type { Declaration } from '../../../common/declarations.ts';
import { agreementRefusal, agreementStatus, applyAgreement, type AgreementRecord, type AgreementStatus, type AgreementStep } from '../../../ledger/agreements.ts';
import { ids, type Actor, type LedgerEvent, type Recorded } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { activeMember, type MemberDirectory } from '../../../ledger/members.ts';

/** The authority: its coordinator records secrecy-bureau filings and may revoke any agreement. */
const AUTHORITY = 'itd';

function bad(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

function written(argument: string, text: string | null | undefined): string {
  if (text === null || text === undefined || text.trim() === '') throw bad(argument, `${argument} must be written out, it cannot be empty`);
  return text.trim();
}

/** Dataset id → its declaration in the catalog as it stands now (it follows the published versions). */
export interface DatasetLookup {
  get(id: string): (Declaration & { readonly provider: string }) | undefined;
}

export interface AgreementDeps {
  readonly ledger: Ledger;
  /** A dataset's declaration (provider, class, sensitivity) in the current catalog. */
  readonly datasets: DatasetLookup;
  readonly now: () => Date;
  /** The exchange's members, live: an agreement is proposed to an active member. */
  readonly members: MemberDirectory;
}

const isCoordinator = (ctx: SubgraphContext): boolean => ctx.caller.agency === AUTHORITY && ctx.caller.roles.includes('coordinator');
/** The authority's coordinators and auditors oversee every agreement (docs/oversight.md). */
const oversees = (ctx: SubgraphContext): boolean => ctx.caller.agency === AUTHORITY && (ctx.caller.roles.includes('coordinator') || ctx.caller.roles.includes('auditor'));

/**
 * Confidentiality agreements: one party proposes, the other countersigns, and only then
 * does the gateway let sensitive data flow between the two; the authority's coordinator records
 * the secrecy-bureau filing that state secrets also need; either party or the coordinator revokes.
 * Every step is a ledger event, decided on the agreements folded to the ledger's end, so a
 * countersignature and a revocation of one agreement can never both be recorded.
 */
export async function agreementResolvers(deps: AgreementDeps) {
  const { ledger, now } = deps;
  const agreements = new Map<string, AgreementRecord>();
  const projection = ledger.project((e) => {
    applyAgreement(agreements, e);
  });
  await projection.sync();
  const actorOf = (ctx: SubgraphContext): Actor => ({ sub: ctx.caller.sub, agency: ctx.caller.agency });

  const visible = (a: AgreementRecord, ctx: SubgraphContext): boolean => a.parties.includes(ctx.caller.agency) || oversees(ctx);
  const find = (id: string, ctx: SubgraphContext): AgreementRecord => {
    const a = agreements.get(id);
    if (a === undefined || !visible(a, ctx)) throw bad('id', `no confidentiality agreement ${id} that your agency is party to`);
    return a;
  };
  /** For a step, whoever asks learns only that it is not theirs to take (each step says whose it is). */
  const existing = (id: string): AgreementRecord => {
    const a = agreements.get(id);
    if (a === undefined) throw bad('id', `no confidentiality agreement ${id}`);
    return a;
  };
  const check = (a: AgreementRecord, step: AgreementStep): void => {
    const why = agreementRefusal(a, step, now());
    if (why !== null) throw bad('id', why);
  };
  const view = (a: AgreementRecord) => ({
    ...a,
    status: agreementStatus(a, now()),
    history: a.history.map((e) => ({ at: e.at, type: e.type, sub: e.actor?.sub ?? null, agency: e.actor?.agency ?? null, detail: detailOf(e) })),
  });
  /** One step on one agreement: `decide` sees it as folded up to the ledger's end. */
  const stepOf = async (ctx: SubgraphContext, id: string, decide: (a: AgreementRecord) => LedgerEvent): Promise<ReturnType<typeof view>> => {
    existing(id);
    await ledger.decide(projection, () => decide(existing(id)), actorOf(ctx));
    return view(agreements.get(id)!);
  };

  return {
    close(): void {
      projection.stop();
    },
    Query: {
      confidentialityAgreements: (_: unknown, args: { status?: AgreementStatus | null }, ctx: SubgraphContext) =>
        [...agreements.values()]
          .filter((a) => visible(a, ctx))
          .filter((a) => args.status === undefined || args.status === null || agreementStatus(a, now()) === args.status)
          .map(view),
      agreementsAwaitingCountersignature: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        [...agreements.values()].filter((a) => a.parties[1] === ctx.caller.agency && agreementStatus(a, now()) === 'PROPOSED').map(view),
      confidentialityAgreement: (_: unknown, args: { id: string }, ctx: SubgraphContext) => view(find(args.id, ctx)),
    },
    Mutation: {
      proposeConfidentialityAgreement: async (_: unknown, args: { counterparty: string; datasets: string[]; validUntil: string; documentRef: string }, ctx: SubgraphContext) => {
        const proposer = ctx.caller.agency;
        const party = activeMember(deps.members, args.counterparty);
        if ('problem' in party) throw bad('counterparty', party.problem);
        const counterparty = party.code;
        if (counterparty === proposer) throw bad('counterparty', 'an agreement is between two different agencies: name the other party');
        if (args.datasets.length === 0) throw bad('datasets', 'name the datasets the agreement covers, or "*" for every dataset the two exchange');
        for (const d of args.datasets) {
          if (d === '*') continue;
          const ds = deps.datasets.get(d);
          if (ds === undefined) throw bad('datasets', `unknown dataset "${d}"`);
          if (ds.provider !== proposer && ds.provider !== counterparty) throw bad('datasets', `dataset ${d} is provided by ${ds.provider}, not by ${proposer} or ${counterparty}`);
        }
        if (!/^\d{4}-\d{2}-\d{2}/.test(args.validUntil) || Number.isNaN(Date.parse(args.validUntil))) throw bad('validUntil', `validUntil must be an ISO date, got "${args.validUntil}"`);
        if (Date.parse(args.validUntil) <= now().getTime()) throw bad('validUntil', `validUntil must be in the future, got "${args.validUntil}"`);
        const e = await ledger.record(
          {
            type: 'agreement.proposed',
            data: { terms: { proposer, counterparty, datasets: [...new Set(args.datasets)], validUntil: args.validUntil, documentRef: written('documentRef', args.documentRef) } },
          },
          actorOf(ctx),
        );
        return view(agreements.get(ids.agreement(e.seq))!);
      },
      countersignConfidentialityAgreement: async (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        stepOf(ctx, args.id, (a) => {
          const [proposer, other] = a.parties;
          if (ctx.caller.agency !== other) throw forbidden(`only ${other}, the other party, countersigns agreement ${a.id}: ${proposer} proposed it`);
          check(a, 'agreement.countersigned');
          return { type: 'agreement.countersigned', data: { id: a.id } };
        }),
      recordSecrecyBureauFiling: async (_: unknown, args: { id: string; reference?: string | null }, ctx: SubgraphContext) => {
        if (!isCoordinator(ctx)) throw forbidden('only a coordinator of the authority (itd) records that an agreement was filed with the secrecy bureau (R-34)');
        const reference = args.reference?.trim() || null;
        return stepOf(ctx, args.id, (a) => {
          check(a, 'agreement.filed');
          return { type: 'agreement.filed', data: { id: a.id, reference } };
        });
      },
      revokeConfidentialityAgreement: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const reasons = written('reasons', args.reasons);
        await stepOf(ctx, args.id, (a) => {
          if (!a.parties.includes(ctx.caller.agency) && !isCoordinator(ctx)) throw forbidden(`only ${a.parties.join(' or ')}, the parties, or a coordinator of the authority revokes agreement ${a.id}`);
          check(a, 'agreement.revoked');
          return { type: 'agreement.revoked', data: { id: a.id, reasons } };
        });
        return true;
      },
    },
  };
}

/** The one line an agreement's history shows for an event of it. */
function detailOf(e: Recorded): string | null {
  if (e.type === 'agreement.revoked') return e.data.reasons;
  if (e.type === 'agreement.filed') return e.data.reference;
  if (e.type === 'agreement.proposed') return `${e.data.terms.proposer} proposes to ${e.data.terms.counterparty}: ${e.data.terms.documentRef}`;
  return null;
}
