import { createHash } from 'node:crypto';
import { Kind, parse, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { AuditEntry } from './audit/record.ts';
import type { Caller, Catalog } from './sharing/types.ts';

/** The GraphQL request as sent, before Apollo reads it: enough to say what was asked for. */
export interface RawOperation {
  readonly query: string | null;
  readonly operationName: string | null;
}

/** Reads query and operationName from a POST JSON body or a GET query string; never throws. */
export function rawOperation(method: string | undefined, search: string, body: string): RawOperation {
  if (method === 'GET') {
    const params = new URLSearchParams(search);
    return { query: params.get('query'), operationName: params.get('operationName') };
  }
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return { query: null, operationName: null };
    const { query, operationName } = parsed as { query?: unknown; operationName?: unknown };
    return { query: typeof query === 'string' ? query : null, operationName: typeof operationName === 'string' ? operationName : null };
  } catch {
    return { query: null, operationName: null };
  }
}

const ROOT_TYPE = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;

/** The root field coordinates an operation asks for ("Query.enterprise"); empty when it does not parse. */
export function rootCoordinates(op: RawOperation): string[] {
  if (op.query === null) return [];
  let doc: DocumentNode;
  try {
    // Bounded: this runs for requests already refused, and must stay cheap for an abusive caller.
    doc = parse(op.query, { noLocation: true, maxTokens: 10_000 });
  } catch {
    return [];
  }
  const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = op.operationName === null ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === op.operationName);
  if (operation === undefined) return [];
  const fragments = new Map(doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const root = ROOT_TYPE[operation.operation];
  const found = new Set<string>();
  const walk = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (!s.name.value.startsWith('__')) found.add(`${root}.${s.name.value}`);
      } else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, seen);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f !== undefined) walk(f, seen);
      }
    }
  };
  walk(operation.selectionSet, new Set());
  return [...found];
}

/** Root fields a refusal records one by one; the rest of a longer list is one record for "*". */
export const MAX_REFUSED_COORDINATES = 30;

/**
 * An operation name as a record of a refused request keeps it: a request refused before its
 * checks ran may carry any name, and each of its records would repeat it. Longer names keep a
 * prefix and a mark that they were cut; the operation hash still tells requests apart.
 */
export function boundedOperationName(name: string | null, maxLength: number): string | null {
  return name === null || name.length <= maxLength ? name : `${name.slice(0, maxLength)}\u2026`;
}

/**
 * Audit records of a request the gateway refused before deciding its fields (rate limit): one DENY
 * per root field asked for, or one for the whole request ("*") when its text cannot be read, so a
 * refusal is on record like any other denial. What they hold is bounded whatever the request
 * carried: the operation name cut to `maxNameLength`, the text only as its hash, at most
 * MAX_REFUSED_COORDINATES + 1 records.
 */
export function refusedEntries(caller: Caller, requestId: string, op: RawOperation, reason: string, catalog: Catalog, now: Date, maxNameLength: number): AuditEntry[] {
  const found = rootCoordinates(op);
  const coordinates = found.length > MAX_REFUSED_COORDINATES ? [...found.slice(0, MAX_REFUSED_COORDINATES), '*'] : found;
  const operationHash = op.query === null ? '' : createHash('sha256').update(op.query).digest('hex');
  const operationName = boundedOperationName(op.operationName, maxNameLength);
  return (coordinates.length > 0 ? coordinates : ['*']).map((coordinate) => {
    const ds = catalog.byCoordinate.get(coordinate) ?? null;
    return {
      ts: now.toISOString(),
      requestId,
      operationName,
      operationHash,
      sub: caller.sub,
      agency: caller.agency,
      roles: [...caller.roles],
      purpose: caller.purpose,
      coordinate,
      dataset: ds?.id ?? null,
      provider: ds?.provider ?? null,
      class: ds?.class ?? null,
      decision: 'DENY',
      reason,
      grantId: null,
      entityKeys: [],
      count: 0,
    };
  });
}
