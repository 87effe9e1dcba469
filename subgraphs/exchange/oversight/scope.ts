import { GraphQLError } from 'graphql';
import type { SubgraphContext } from '../../kit/context.ts';

/** The authority that runs the exchange. */
export const AUTHORITY = 'itd';

/** A coordinator or auditor of the authority sees everything the oversight holds; anyone else what concerns their agency. */
export function seesAll(ctx: SubgraphContext): boolean {
  return ctx.caller.agency === AUTHORITY && (ctx.caller.roles.includes('coordinator') || ctx.caller.roles.includes('auditor'));
}

export function isCoordinator(ctx: SubgraphContext): boolean {
  return ctx.caller.agency === AUTHORITY && ctx.caller.roles.includes('coordinator');
}

export function forbidden(coordinate: string, message: string, remedy: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'FORBIDDEN',
      sharing: { coordinate, dataset: 'itd.sharing-requests', provider: AUTHORITY, class: 'UNCONDITIONAL', reason: 'ROLE_REQUIRED', remedy },
    },
  });
}

export function requireCoordinator(ctx: SubgraphContext, coordinate: string): void {
  if (!isCoordinator(ctx)) throw forbidden(coordinate, `${coordinate} is for coordinators of the authority (itd).`, 'Ask the authority (itd) to act on it.');
}

export function bad(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

/** A written text (reasons, answers): empty is not an answer. */
export function written(argument: string, text: string | null | undefined): string {
  if (text === null || text === undefined || text.trim() === '') throw bad(argument, `${argument} must be written out`);
  return text.trim();
}

export function isoDate(argument: string, text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(Date.parse(text))) throw bad(argument, `${argument} must be an ISO date, got "${text}"`);
  return text;
}
