import { BREAK, Kind, visit, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';

/** Bounds on an operation's shape, enforced before planning (docs/contract.md, Errors and limits). */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxFieldsPerSelection: number;
  readonly maxAliases: number;
}

export const DEFAULT_LIMITS: OperationLimits = Object.freeze({ maxDepth: 12, maxFieldsPerSelection: 200, maxAliases: 30 });

/** The first limit the operation exceeds, as a message naming it, or null. */
export function checkLimits(doc: DocumentNode, op: OperationDefinitionNode, limits: OperationLimits): string | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let aliases = 0;
  let problem: string | null = null;

  // Fragments are expanded where they are spread; `visiting` stops a fragment cycle (which
  // validation rejects anyway) from recursing forever.
  const walk = (set: SelectionSetNode, depth: number, visiting: Set<string>): number => {
    if (problem !== null) return 0;
    if (depth > limits.maxDepth) {
      problem = `query depth exceeds the limit of ${limits.maxDepth}`;
      return 0;
    }
    let fields = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        fields++;
        if (sel.alias !== undefined) aliases++;
        if (sel.selectionSet !== undefined) walk(sel.selectionSet, depth + 1, visiting);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        fields += walk(sel.selectionSet, depth, visiting);
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (frag === undefined || visiting.has(name)) continue;
        visiting.add(name);
        fields += walk(frag.selectionSet, depth, visiting);
        visiting.delete(name);
      }
    }
    if (problem === null && fields > limits.maxFieldsPerSelection) {
      problem = `a selection set selects ${fields} fields, over the limit of ${limits.maxFieldsPerSelection}`;
    }
    if (problem === null && aliases > limits.maxAliases) problem = `the query uses more than ${limits.maxAliases} aliases`;
    return fields;
  };
  walk(op.selectionSet, 1, new Set());
  return problem;
}

/**
 * Bounds on what a request carries, so that no caller can make the gateway, the access log or
 * the ledger hold more than these per request (docs/security.md). Each is named by the environment
 * variable that sets it (gateway/config.ts), and a refusal names it too.
 */
export interface InputLimits {
  /** MAX_OPERATION_NAME_LENGTH: characters of an operation name (it is written to every access record). */
  readonly maxOperationNameLength: number;
  /** MAX_TEXT_ARGUMENT_LENGTH: characters of any string argument, literal or variable (justifications, reasons, complaint text…). */
  readonly maxTextLength: number;
  /** MAX_LIST_ARGUMENT_LENGTH: items of any list argument (`enterprises(uscc: [...])`). */
  readonly maxListLength: number;
  /** MAX_REQUEST_COST: estimated field reads of one request (see requestCost). */
  readonly maxRequestCost: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = Object.freeze({ maxOperationNameLength: 128, maxTextLength: 2000, maxListLength: 100, maxRequestCost: 2000 });

/** A limit a request exceeds: the setting's name (what to raise) and a sentence for the caller. */
export interface LimitProblem {
  readonly limit: 'MAX_OPERATION_NAME_LENGTH' | 'MAX_TEXT_ARGUMENT_LENGTH' | 'MAX_LIST_ARGUMENT_LENGTH' | 'MAX_REQUEST_COST' | 'COST_BUDGET_PER_MINUTE';
  readonly message: string;
}

function nameProblem(name: string | null | undefined, limits: InputLimits): LimitProblem | null {
  if (typeof name !== 'string' || name.length <= limits.maxOperationNameLength) return null;
  return { limit: 'MAX_OPERATION_NAME_LENGTH', message: `the operation name is ${name.length} characters, over the limit of ${limits.maxOperationNameLength}` };
}

/** A literal argument value over the text or list limit; `where` names the argument. */
function literalProblem(value: ValueNode, where: string, limits: InputLimits): LimitProblem | null {
  switch (value.kind) {
    case Kind.STRING:
      return value.value.length > limits.maxTextLength ? { limit: 'MAX_TEXT_ARGUMENT_LENGTH', message: `argument "${where}" is ${value.value.length} characters, over the limit of ${limits.maxTextLength}` } : null;
    case Kind.LIST:
      if (value.values.length > limits.maxListLength) return { limit: 'MAX_LIST_ARGUMENT_LENGTH', message: `argument "${where}" lists ${value.values.length} items, over the limit of ${limits.maxListLength}` };
      for (const v of value.values) {
        const p = literalProblem(v, where, limits);
        if (p !== null) return p;
      }
      return null;
    case Kind.OBJECT:
      for (const f of value.fields) {
        const p = literalProblem(f.value, `${where}.${f.name.value}`, limits);
        if (p !== null) return p;
      }
      return null;
    case Kind.BOOLEAN:
    case Kind.ENUM:
    case Kind.FLOAT:
    case Kind.INT:
    case Kind.NULL:
    case Kind.VARIABLE:
      return null; // bounded by the grammar, or checked with the variables
  }
}

/**
 * What can be checked of a document once (Apollo reuses it for every request with the same
 * text): the requested and the chosen operation's names, and every literal argument, default
 * values of variables included.
 */
export function documentInputProblem(doc: DocumentNode, requestedName: string | null | undefined, op: OperationDefinitionNode, limits: InputLimits): LimitProblem | null {
  const named = nameProblem(requestedName, limits) ?? nameProblem(op.name?.value, limits);
  if (named !== null) return named;
  let problem: LimitProblem | null = null;
  visit(doc, {
    Argument(node) {
      problem ??= literalProblem(node.value, node.name.value, limits);
      return problem === null ? undefined : BREAK;
    },
    VariableDefinition(node) {
      if (node.defaultValue !== undefined) problem ??= literalProblem(node.defaultValue, `$${node.variable.name.value}`, limits);
      return problem === null ? undefined : BREAK;
    },
  });
  return problem;
}

/** A variable value (at any depth of lists and input objects) over the text or list limit. */
export function variablesInputProblem(values: Readonly<Record<string, unknown>> | undefined, limits: InputLimits): LimitProblem | null {
  if (values === undefined || values === null) return null;
  const walk = (v: unknown, where: string, depth: number): LimitProblem | null => {
    if (typeof v === 'string') return v.length > limits.maxTextLength ? { limit: 'MAX_TEXT_ARGUMENT_LENGTH', message: `variable "${where}" is ${v.length} characters, over the limit of ${limits.maxTextLength}` } : null;
    if (v === null || typeof v !== 'object' || depth > 32) return null;
    if (Array.isArray(v)) {
      if (v.length > limits.maxListLength) return { limit: 'MAX_LIST_ARGUMENT_LENGTH', message: `variable "${where}" lists ${v.length} items, over the limit of ${limits.maxListLength}` };
      for (const item of v) {
        const p = walk(item, where, depth + 1);
        if (p !== null) return p;
      }
      return null;
    }
    for (const [k, item] of Object.entries(v)) {
      const p = walk(item, `${where}.${k}`, depth + 1);
      if (p !== null) return p;
    }
    return null;
  };
  for (const [name, v] of Object.entries(values)) {
    const p = walk(v, `$${name}`, 0);
    if (p !== null) return p;
  }
  return null;
}

/** How many values a field is asked for at once: the longest list among its arguments, at least 1. */
function fanOut(field: FieldNode, variables: Readonly<Record<string, unknown>> | undefined): number {
  let n = 1;
  for (const arg of field.arguments ?? []) {
    const v = arg.value;
    if (v.kind === Kind.LIST) n = Math.max(n, v.values.length);
    else if (v.kind === Kind.VARIABLE) {
      const value = variables?.[v.name.value];
      if (Array.isArray(value)) n = Math.max(n, value.length);
    }
  }
  return n;
}

/**
 * The request's estimated cost: every field counted once for each entity it is read for, an
 * entity list argument multiplying what is selected below it. `enterprise(uscc: "…") { name }`
 * costs 2; `enterprises(uscc: [100 keys]) { name taxCreditGrade }` costs 1 + 100 × 2. It stands
 * for the entity fetches and field resolutions the subgraphs do for the request, known before
 * anything is planned.
 */
export function requestCost(doc: DocumentNode, op: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | undefined): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const walk = (set: SelectionSetNode, each: number, visiting: Set<string>): number => {
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        cost += each;
        if (sel.selectionSet !== undefined) cost += walk(sel.selectionSet, each * fanOut(sel, variables), visiting);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) cost += walk(sel.selectionSet, each, visiting);
      else {
        const frag = fragments.get(sel.name.value);
        if (frag === undefined || visiting.has(sel.name.value)) continue;
        visiting.add(sel.name.value);
        cost += walk(frag.selectionSet, each, visiting);
        visiting.delete(sel.name.value);
      }
    }
    return cost;
  };
  return walk(op.selectionSet, 1, new Set());
}

export function costProblem(cost: number, limits: InputLimits): LimitProblem | null {
  return cost > limits.maxRequestCost ? { limit: 'MAX_REQUEST_COST', message: `the request's estimated cost is ${cost} field reads, over the limit of ${limits.maxRequestCost} per request` } : null;
}
