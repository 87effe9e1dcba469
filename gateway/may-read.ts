import { isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { exchangeError } from '../common/errors.ts';
import { PURPOSE_CODES } from '../common/vocabulary.ts';
import type { Caller, Decision } from './sharing/types.ts';

/** The root field the gateway answers itself; declared in the exchange subgraph's schema. */
export const MAY_READ_FIELD = 'mayRead';

export interface ReadPermission {
  readonly decision: 'ALLOW' | 'DENY';
  readonly reason: string;
  readonly remedy: string | null;
}

export interface MayReadArgs {
  readonly coordinate: string;
  readonly purpose?: string | null;
}

/**
 * `Query.mayRead(coordinate, purpose)` (docs/developers.md): the decision an actual read of the field
 * would get, from the same decision path the gateway trims operations with, for the caller and the
 * given purpose (or the request's x-purpose when none is given). Bad arguments are the caller's
 * mistake: BAD_USER_INPUT naming the argument.
 */
export function mayRead(
  schema: GraphQLSchema,
  decide: (caller: Caller, coordinate: string) => Decision,
  caller: Caller,
  args: MayReadArgs,
): ReadPermission {
  const purpose = args.purpose ?? caller.purpose;
  if (purpose !== null && !PURPOSE_CODES.has(purpose)) {
    throw exchangeError('BAD_USER_INPUT', `mayRead: purpose "${purpose.slice(0, 64)}" is not a purpose code of the catalog; use one of ${[...PURPOSE_CODES].join(', ')}.`, { argument: 'purpose' });
  }
  const problem = coordinateProblem(schema, args.coordinate);
  if (problem !== null) throw exchangeError('BAD_USER_INPUT', `mayRead: coordinate "${args.coordinate.slice(0, 128)}" ${problem}.`, { argument: 'coordinate' });
  const d = decide({ ...caller, purpose }, args.coordinate);
  return { decision: d.effect, reason: d.reason, remedy: d.effect === 'DENY' ? d.remedy : null };
}

/** Why a coordinate names no field of the public schema, or null. */
export function coordinateProblem(schema: GraphQLSchema, coordinate: string): string | null {
  const m = /^([_A-Za-z][_0-9A-Za-z]*)\.([_A-Za-z][_0-9A-Za-z]*)$/.exec(coordinate);
  if (m === null) return 'must be Type.field, e.g. Enterprise.taxCreditGrade';
  const type = schema.getType(m[1]!);
  if (type === undefined || type === null || m[1]!.startsWith('__')) return `names no type of the schema (${m[1]})`;
  if (!isObjectType(type) && !isInterfaceType(type)) return `names ${m[1]}, which has no fields`;
  if (type.getFields()[m[2]!] === undefined) return `names no field of ${m[1]}`;
  return null;
}
