import { GraphQLError } from 'graphql';
import type { SubgraphContext } from '../../kit/context.ts';
import type { Actor, LedgerEvent, MemberKind, MemberTerms, Recorded } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { memberRefusal, memberTermsProblem, type LiveMembers, type Member, type MemberStatus, type MemberStep } from '../../../ledger/members.ts';

/** The authority: its coordinators register, change, suspend, reinstate and retire members. */
const AUTHORITY = 'itd';

function bad(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

function requireCoordinator(ctx: SubgraphContext, coordinate: string): void {
  if (ctx.caller.agency === AUTHORITY && ctx.caller.roles.includes('coordinator')) return;
  throw new GraphQLError(`${coordinate} is for coordinators of the authority (itd): members are registered and changed by the authority.`, {
    extensions: {
      code: 'FORBIDDEN',
      sharing: { coordinate, dataset: 'itd.members', provider: AUTHORITY, class: 'UNCONDITIONAL', reason: 'ROLE_REQUIRED', remedy: 'Ask the authority (itd) to register or change the member.' },
    },
  });
}

interface MemberInput {
  readonly code: string;
  readonly division: string;
  readonly name: string;
  readonly nameEn: string;
  readonly kind: MemberKind;
  readonly responsiblePerson: string;
  readonly contact: string;
}

function termsOf(input: MemberInput): MemberTerms {
  const terms: MemberTerms = {
    code: input.code.trim(),
    division: input.division.trim(),
    name: input.name.trim(),
    nameEn: input.nameEn.trim(),
    kind: input.kind,
    responsible: { name: input.responsiblePerson.trim(), contact: input.contact.trim() },
  };
  const problem = memberTermsProblem(terms);
  if (problem !== null) throw bad(`input.${problem.field}`, problem.message);
  return terms;
}

function reasonsOf(e: Recorded): string | null {
  return e.type === 'member.suspended' || e.type === 'member.reinstated' || e.type === 'member.retired' ? e.data.reasons : null;
}

function view(m: Member) {
  return {
    code: m.code,
    fullId: m.fullId,
    division: m.division,
    name: m.name,
    nameEn: m.nameEn,
    kind: m.kind,
    responsiblePerson: m.responsible.name,
    contact: m.responsible.contact,
    status: m.status,
    registeredAt: m.registeredAt,
    history: m.history.map((e) => ({ seq: e.seq, type: e.type, at: e.at, by: e.actor === null ? null : `${e.actor.sub} (${e.actor.agency})`, reasons: reasonsOf(e) })),
  };
}

/**
 * The members' directory in GraphQL (docs/members.md): anyone reads it; the authority's
 * coordinators take every step, each decided on the directory folded to the ledger's end and
 * recorded as one event with the coordinator as actor.
 */
export function memberResolvers(deps: { readonly ledger: Ledger; readonly members: LiveMembers }) {
  const { ledger, members } = deps;
  const actorOf = (ctx: SubgraphContext): Actor => ({ sub: ctx.caller.sub, agency: ctx.caller.agency });

  /** Decides a step for `code` on the directory as it stands at the ledger's end, and records it. */
  const take = async (ctx: SubgraphContext, coordinate: string, step: MemberStep, code: string, event: () => LedgerEvent, argument: string) => {
    requireCoordinator(ctx, coordinate);
    await ledger.decide(
      members.projection,
      () => {
        const refusal = memberRefusal(members, step, code);
        if (refusal !== null) throw bad(argument, refusal);
        return event();
      },
      actorOf(ctx),
    );
    return view(members.get(code)!);
  };
  /** A code argument (short code or full id) as the member's code; an unknown one is left as given, for the refusal to name. */
  const codeOf = (idOrCode: string): string => members.resolve(idOrCode.trim()) ?? idOrCode.trim();
  const reasons = (text: string): string => {
    if (text.trim() === '') throw bad('reasons', 'reasons must be written out: a step without reasons is not recorded');
    return text.trim();
  };

  return {
    Query: {
      members: (_: unknown, args: { status?: MemberStatus | null }) =>
        members
          .list()
          .filter((m) => args.status === undefined || args.status === null || m.status === args.status)
          .map(view),
      member: (_: unknown, args: { code: string }) => {
        const code = members.resolve(args.code.trim());
        return code === null ? null : view(members.get(code)!);
      },
    },
    Mutation: {
      registerMember: async (_: unknown, args: { input: MemberInput }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.registerMember');
        const terms = termsOf(args.input);
        return take(ctx, 'Mutation.registerMember', 'member.registered', terms.code, () => ({ type: 'member.registered', data: { member: terms } }), 'input.code');
      },
      changeMember: async (_: unknown, args: { input: MemberInput }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.changeMember');
        const terms = termsOf(args.input);
        return take(ctx, 'Mutation.changeMember', 'member.changed', terms.code, () => ({ type: 'member.changed', data: { member: terms } }), 'input.code');
      },
      suspendMember: async (_: unknown, args: { code: string; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.suspendMember');
        const code = codeOf(args.code);
        const why = reasons(args.reasons);
        return take(ctx, 'Mutation.suspendMember', 'member.suspended', code, () => ({ type: 'member.suspended', data: { code, reasons: why } }), 'code');
      },
      reinstateMember: async (_: unknown, args: { code: string; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.reinstateMember');
        const code = codeOf(args.code);
        const why = reasons(args.reasons);
        return take(ctx, 'Mutation.reinstateMember', 'member.reinstated', code, () => ({ type: 'member.reinstated', data: { code, reasons: why } }), 'code');
      },
      retireMember: async (_: unknown, args: { code: string; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.retireMember');
        const code = codeOf(args.code);
        const why = reasons(args.reasons);
        return take(ctx, 'Mutation.retireMember', 'member.retired', code, () => ({ type: 'member.retired', data: { code, reasons: why } }), 'code');
      },
    },
  };
}
