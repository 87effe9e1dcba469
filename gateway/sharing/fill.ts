import type { GraphQLFormattedError } from 'graphql';
import { normalisedEntityKey } from '../../common/entity-key.ts';
import type { FieldStep, FillPlan, KeyArgument, SelectionPlan, TypeShape } from './trim.ts';
import { HIDDEN_TYPENAME } from './trim.ts';
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

/** What fillResult needs besides the data, to name the entities a request concerned. */
export interface FillInputs {
  /** The request's variable values: key arguments given as variables are read from them. */
  readonly variables?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Entity keys of these types that the query plan's own entity fetches carried. Asked only for a
   * coordinate whose entities neither the response (keys the client selected) nor the arguments name.
   */
  readonly fetchedKeys?: (types: readonly string[]) => Iterable<string>;
}

type Path = (string | number)[];
type Entities = readonly string[] | null;

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

function pushKey(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(normalisedEntityKey(value));
  else if (typeof value === 'number') into.push(String(value));
  else if (Array.isArray(value)) for (const v of value) pushKey(v, into);
}

/** The key values arguments name in this request: literals, and variables' values (lists flattened). */
function argumentKeys(args: readonly KeyArgument[], variables: Readonly<Record<string, unknown>> | undefined): string[] {
  const out: string[] = [];
  for (const a of args) {
    if ('literal' in a) out.push(normalisedEntityKey(a.literal));
    else pushKey(variables?.[a.variable], out);
  }
  return out;
}

/**
 * Walks the executed data once with the precompiled plan: puts null (and one FORBIDDEN error) where
 * each denied field was, in the client's key order, strips the hidden selection, and collects per
 * coordinate the entity keys and value counts the audit log records.
 */
export function fillResult(data: Record<string, unknown> | null | undefined, plan: FillPlan, inputs: FillInputs = {}): FillOutcome {
  const access = new Map<string, Access>();
  const stepOf = new Map<string, FieldStep>();
  const firstPath = new Map<FieldStep, readonly (string | number)[]>();
  const path: Path = [];
  const { variables } = inputs;

  const note = (step: FieldStep, keys: readonly string[] | null): Access => {
    let a = access.get(step.coordinate);
    if (a === undefined) {
      a = { decision: step.decision!, entityKeys: new Set(), count: 0 };
      access.set(step.coordinate, a);
      stepOf.set(step.coordinate, step);
    }
    if (keys !== null) for (const k of keys) a.entityKeys.add(k);
    return a;
  };

  const typeOf = (obj: Record<string, unknown>, sp: SelectionPlan): string | null => {
    if (sp.concreteType !== null) return sp.concreteType;
    if (sp.typenameKey === null) return null;
    const t = obj[sp.typenameKey];
    return typeof t === 'string' ? t : null;
  };

  const keyOf = (obj: Record<string, unknown>, keyKeys: readonly string[]): string | null => {
    if (keyKeys.length === 1) {
      const v = obj[keyKeys[0]!];
      return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
    }
    const parts: unknown[] = [];
    for (const k of keyKeys) {
      const v = obj[k];
      if (typeof v !== 'string' && typeof v !== 'number') return null;
      parts.push(v);
    }
    return parts.join('|');
  };

  // The keys the client selected on this object; with the type unknown, the first type whose keys are all there.
  const keysOf = (obj: Record<string, unknown>, sp: SelectionPlan, type: string | null): string | null => {
    if (sp.keyKeys.size === 0) return null;
    if (type !== null) {
      const keyKeys = sp.keyKeys.get(type);
      return keyKeys === undefined ? null : keyOf(obj, keyKeys);
    }
    for (const keyKeys of sp.keyKeys.values()) {
      const k = keyOf(obj, keyKeys);
      if (k !== null) return k;
    }
    return null;
  };

  // The entity keys a value carries, for root fields like Query.enterprises.
  const valueKeys = (value: unknown, sp: SelectionPlan, into: string[]): void => {
    if (Array.isArray(value)) {
      for (const v of value) valueKeys(v, sp, into);
    } else if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const k = keysOf(obj, sp, typeOf(obj, sp));
      if (k !== null) into.push(k);
    }
  };

  const fillValue = (value: unknown, shape: TypeShape, sp: SelectionPlan | null, entity: Entities): unknown => {
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

  const fillObject = (obj: Record<string, unknown>, sp: SelectionPlan, inherited: Entities): Record<string, unknown> | typeof PROPAGATE => {
    const type = typeOf(obj, sp);
    const own = keysOf(obj, sp, type);
    const entity: Entities = own !== null ? [own] : inherited;
    const out: Record<string, unknown> | null = sp.rebuild ? {} : null;
    for (const step of sp.steps) {
      const key = step.responseKey;
      if (step.onlyFor !== null) {
        // Without the concrete type, a fragment's field applied when the executor put it there.
        if (type !== null ? !step.onlyFor.has(type) : step.denied || obj[key] === undefined) continue;
      }
      const args = step.keyArguments.length > 0 ? argumentKeys(step.keyArguments, variables) : null;
      path.push(key);
      if (step.denied) {
        if (!firstPath.has(step)) firstPath.set(step, path.slice());
        if (step.recorded) {
          const a = note(step, entity);
          if (args !== null) note(step, args);
          a.count++;
        }
        path.pop();
        if (step.shape.nonNull) return PROPAGATE;
        if (out !== null) out[key] = null;
        continue;
      }
      const raw = obj[key];
      let value = raw;
      if (step.child !== null && raw !== null && raw !== undefined) {
        value = fillValue(raw, step.shape, step.child, args ?? entity);
        if (value === PROPAGATE) {
          path.pop();
          if (step.shape.nonNull) return PROPAGATE;
          value = null;
        }
      }
      if (step.recorded && raw !== undefined) {
        const a = note(step, entity);
        if (args !== null) note(step, args);
        if (entity === null && step.child !== null && raw !== null) {
          const keys: string[] = [];
          valueKeys(raw, step.child, keys);
          note(step, keys);
        }
        if (raw !== null) a.count++;
      }
      path.pop();
      if (out !== null) {
        if (!(key in out)) out[key] = value;
      } else if (value !== raw) obj[key] = value;
    }
    if (out === null) return obj;
    // Keys the plan does not know (none expected) are kept, the hidden one dropped.
    for (const k of Object.keys(obj)) if (!(k in out) && k !== HIDDEN_TYPENAME) out[k] = obj[k];
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
    // Denied in a branch that returned no object (null parent, empty list): the static path, and
    // the keys the arguments above it named.
    if (!firstPath.has(step) && step.recorded && !access.has(step.coordinate)) note(step, argumentKeys(step.scopeKeyArguments, variables));
    errors.push(forbidden(step, firstPath.get(step) ?? step.staticPath));
  }
  // No data at all (execution failed, or a null reached the root): every field decided is recorded,
  // so that no governed read escapes the log.
  if (filled === null) {
    for (const step of plan.recordedSteps) if (!access.has(step.coordinate)) note(step, argumentKeys(step.scopeKeyArguments, variables));
  }
  if (inputs.fetchedKeys !== undefined) {
    for (const [coordinate, a] of access) {
      if (a.entityKeys.size > 0) continue;
      const step = stepOf.get(coordinate)!;
      if (step.entityTypes.length > 0) for (const k of inputs.fetchedKeys(step.entityTypes)) a.entityKeys.add(k);
    }
  }
  return { data: filled, errors, access };
}
