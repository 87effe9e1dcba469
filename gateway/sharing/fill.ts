import type { GraphQLFormattedError } from 'graphql';
import type { FieldStep, FillPlan, SelectionPlan, TypeShape } from './trim.ts';
import { HIDDEN_PREFIX } from './trim.ts';
import type { Decision } from './types.ts';

export interface Access {
  readonly decision: Decision;
  readonly entityKeys: Set<string>;
  count: number;
}

export interface FillOutcome {
  readonly data: Record<string, unknown> | null;
  /** One FORBIDDEN error per denied field. */
  readonly errors: GraphQLFormattedError[];
  /** Per coordinate read or denied: which entities it concerned and how many values. */
  readonly access: Map<string, Access>;
}

type Path = (string | number)[];

/** Marks a value that must become null further up (a non-null field was denied). */
const PROPAGATE = Symbol('propagate');

function forbidden(step: FieldStep, path: readonly (string | number)[]): GraphQLFormattedError {
  const d = step.decision!;
  return {
    message: `${step.coordinate} is not shared with you: ${d.reason}.`,
    path,
    extensions: {
      code: 'FORBIDDEN',
      sharing: {
        coordinate: step.coordinate,
        dataset: d.dataset?.id ?? null,
        provider: d.dataset?.provider ?? null,
        class: d.dataset?.class ?? null,
        reason: d.reason,
        remedy: d.effect === 'DENY' ? d.remedy : null,
      },
    },
  };
}

/**
 * Walks the executed data once with the precompiled plan: puts null (and one FORBIDDEN error) where
 * each denied field was, in the client's key order, strips the hidden selections, and collects
 * per coordinate the entity keys and value counts the audit log records.
 */
export function fillResult(data: Record<string, unknown> | null | undefined, plan: FillPlan): FillOutcome {
  const access = new Map<string, Access>();
  const firstPath = new Map<FieldStep, readonly (string | number)[]>();
  const path: Path = [];

  const note = (step: FieldStep, keys: readonly string[]): void => {
    let a = access.get(step.coordinate);
    if (a === undefined) {
      a = { decision: step.decision!, entityKeys: new Set(), count: 0 };
      access.set(step.coordinate, a);
    }
    for (const k of keys) a.entityKeys.add(k);
  };

  const keysOf = (obj: Record<string, unknown>, sp: SelectionPlan, type: string | null): string | null => {
    if (type === null) return null;
    const keyKeys = sp.keyKeys.get(type);
    if (keyKeys === undefined) return null;
    const parts = keyKeys.map((k) => obj[k]);
    return parts.every((p) => typeof p === 'string' || typeof p === 'number') ? parts.join('|') : null;
  };

  // The entity keys a value carries, for root fields like Query.enterprises.
  const valueKeys = (value: unknown, sp: SelectionPlan, into: string[]): void => {
    if (Array.isArray(value)) {
      for (const v of value) valueKeys(v, sp, into);
    } else if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const type = sp.concreteType ?? (sp.typenameKey !== null ? (obj[sp.typenameKey] as string) : null);
      const k = keysOf(obj, sp, type);
      if (k !== null) into.push(k);
    }
  };

  const fillValue = (value: unknown, shape: TypeShape, sp: SelectionPlan | null, entity: string | null): unknown => {
    if (value === null || value === undefined) return value;
    if (shape.list !== null && Array.isArray(value)) {
      const inner = shape.list;
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const v = fillValue(value[i], inner, sp, entity);
        path.pop();
        if (v === PROPAGATE) {
          if (inner.nonNull) return PROPAGATE;
          out ??= value.slice();
          out[i] = null;
        } else if (v !== value[i]) {
          out ??= value.slice();
          out[i] = v;
        }
      }
      return out ?? value;
    }
    if (sp === null || typeof value !== 'object') return value;
    return fillObject(value as Record<string, unknown>, sp, entity);
  };

  const fillObject = (obj: Record<string, unknown>, sp: SelectionPlan, inherited: string | null): Record<string, unknown> | typeof PROPAGATE => {
    const type = sp.concreteType ?? (sp.typenameKey !== null ? (obj[sp.typenameKey] as string | undefined) ?? null : null);
    const entity = keysOf(obj, sp, type) ?? inherited;
    const out: Record<string, unknown> | null = sp.rebuild ? {} : null;
    for (const step of sp.steps) {
      if (step.onlyFor !== null && (type === null || !step.onlyFor.has(type))) continue;
      const key = step.responseKey;
      path.push(key);
      if (step.denied) {
        if (!firstPath.has(step)) firstPath.set(step, path.slice());
        if (step.recorded) {
          note(step, entity !== null ? [entity] : []);
          access.get(step.coordinate)!.count++;
        }
        path.pop();
        if (step.shape.nonNull) return PROPAGATE;
        if (out !== null) out[key] = null;
        continue;
      }
      const raw = obj[key];
      let value = raw;
      if (step.child !== null && raw !== null && raw !== undefined) {
        value = fillValue(raw, step.shape, step.child, entity);
        if (value === PROPAGATE) {
          path.pop();
          if (step.shape.nonNull) return PROPAGATE;
          value = null;
        }
      }
      if (step.recorded && raw !== undefined) {
        const keys: string[] = [];
        if (entity !== null) keys.push(entity);
        else if (step.child !== null) valueKeys(raw, step.child, keys);
        note(step, keys);
        if (raw !== null) access.get(step.coordinate)!.count++;
      }
      path.pop();
      if (out !== null) {
        if (!(key in out)) out[key] = value;
      } else if (value !== raw) obj[key] = value;
    }
    if (out === null) return obj;
    // Keys the plan does not know (none expected) are kept, hidden ones dropped.
    for (const k of Object.keys(obj)) if (!(k in out) && !k.startsWith(HIDDEN_PREFIX)) out[k] = obj[k];
    return out;
  };

  let filled: Record<string, unknown> | null = null;
  if (data !== null && data !== undefined) {
    const r = fillObject(data, plan.root, null);
    filled = r === PROPAGATE ? null : r;
  }
  const errors: GraphQLFormattedError[] = [];
  for (const step of plan.deniedSteps) {
    // A type-conditioned field no returned object had the type for was never asked of anything.
    if (!firstPath.has(step) && step.onlyFor !== null) continue;
    // Denied in a branch that returned no object (null parent, empty list): the static path.
    if (!firstPath.has(step) && step.recorded && !access.has(step.coordinate)) note(step, []);
    errors.push(forbidden(step, firstPath.get(step) ?? step.staticPath));
  }
  return { data: filled, errors, access };
}
