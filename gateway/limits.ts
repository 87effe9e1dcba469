import {
  BREAK,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  Kind,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

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
  /** MAX_TEXT_ARGUMENT_LENGTH: characters of any string argument, literal or variable (justifications, reasons, complaint text…), but those of DOCUMENT_INPUT_FIELDS. */
  readonly maxTextLength: number;
  /** MAX_DOCUMENT_ARGUMENT_LENGTH: characters of a string given to one of DOCUMENT_INPUT_FIELDS (a proposal's SDL and catalog). */
  readonly maxDocumentLength: number;
  /** MAX_LIST_ARGUMENT_LENGTH: items of any list argument (`enterprises(uscc: [...])`). */
  readonly maxListLength: number;
  /** MAX_REQUEST_COST: estimated field reads of one request (see requestCost). */
  readonly maxRequestCost: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = Object.freeze({ maxOperationNameLength: 128, maxTextLength: 2000, maxDocumentLength: 200_000, maxListLength: 100, maxRequestCost: 2000 });

/**
 * The input-object fields that carry a whole document rather than free text, bounded by
 * MAX_DOCUMENT_ARGUMENT_LENGTH instead of MAX_TEXT_ARGUMENT_LENGTH: input type -> its fields.
 * A subgraph's SDL runs to tens of thousands of characters; the body limit still bounds it.
 */
export const DOCUMENT_INPUT_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['SubgraphProposalInput', new Set(['sdl', 'catalog'])]]);

/** A limit a request exceeds: the setting's name (what to raise) and a sentence for the caller. */
export interface LimitProblem {
  readonly limit: 'MAX_OPERATION_NAME_LENGTH' | 'MAX_TEXT_ARGUMENT_LENGTH' | 'MAX_DOCUMENT_ARGUMENT_LENGTH' | 'MAX_LIST_ARGUMENT_LENGTH' | 'MAX_REQUEST_COST' | 'COST_BUDGET_PER_MINUTE';
  readonly message: string;
}

function nameProblem(name: string | null | undefined, limits: InputLimits): LimitProblem | null {
  if (typeof name !== 'string' || name.length <= limits.maxOperationNameLength) return null;
  return { limit: 'MAX_OPERATION_NAME_LENGTH', message: `the operation name is ${name.length} characters, over the limit of ${limits.maxOperationNameLength}` };
}

/** The type of input field `name` of `type`'s named type, or undefined when the schema does not know it. */
function fieldType(type: GraphQLInputType | undefined, name: string): GraphQLInputType | undefined {
  const named = type === undefined ? undefined : getNamedType(type);
  return isInputObjectType(named) ? named.getFields()[name]?.type : undefined;
}

/** Whether input field `name` of `type` is one of DOCUMENT_INPUT_FIELDS. */
function isDocumentField(type: GraphQLInputType | undefined, name: string): boolean {
  const named = type === undefined ? undefined : getNamedType(type);
  return named !== undefined && DOCUMENT_INPUT_FIELDS.get(named.name)?.has(name) === true;
}

/** The type of a list's items, or undefined when `type` is not known to be a list. */
function itemType(type: GraphQLInputType | undefined): GraphQLInputType | undefined {
  const nullable = type === undefined ? undefined : getNullableType(type);
  return isListType(nullable) ? nullable.ofType : undefined;
}

/** A string of `length` characters over its bound: MAX_DOCUMENT_ARGUMENT_LENGTH in a document field, else MAX_TEXT_ARGUMENT_LENGTH. */
function stringProblem(length: number, what: string, document: boolean, limits: InputLimits): LimitProblem | null {
  if (document) {
    return length > limits.maxDocumentLength ? { limit: 'MAX_DOCUMENT_ARGUMENT_LENGTH', message: `${what} is ${length} characters, over the limit of ${limits.maxDocumentLength}` } : null;
  }
  return length > limits.maxTextLength ? { limit: 'MAX_TEXT_ARGUMENT_LENGTH', message: `${what} is ${length} characters, over the limit of ${limits.maxTextLength}` } : null;
}

/** Where the variables of a document are used: in a field of DOCUMENT_INPUT_FIELDS only, or (also) elsewhere. */
interface VariableUses {
  readonly inDocumentField: Set<string>;
  readonly elsewhere: Set<string>;
}

/**
 * A literal argument value over the text, document or list limit; `where` names the argument,
 * `type` is its type in the schema (undefined when unknown: every string then has the text bound),
 * `document` whether the nearest input field holding it is one of DOCUMENT_INPUT_FIELDS.
 */
function literalProblem(value: ValueNode, where: string, type: GraphQLInputType | undefined, document: boolean, limits: InputLimits, uses: VariableUses): LimitProblem | null {
  switch (value.kind) {
    case Kind.STRING:
      return stringProblem(value.value.length, `argument "${where}"`, document, limits);
    case Kind.LIST:
      if (value.values.length > limits.maxListLength) return { limit: 'MAX_LIST_ARGUMENT_LENGTH', message: `argument "${where}" lists ${value.values.length} items, over the limit of ${limits.maxListLength}` };
      for (const v of value.values) {
        const p = literalProblem(v, where, itemType(type), document, limits, uses);
        if (p !== null) return p;
      }
      return null;
    case Kind.OBJECT:
      for (const f of value.fields) {
        const p = literalProblem(f.value, `${where}.${f.name.value}`, fieldType(type, f.name.value), isDocumentField(type, f.name.value), limits, uses);
        if (p !== null) return p;
      }
      return null;
    case Kind.VARIABLE:
      (document ? uses.inDocumentField : uses.elsewhere).add(value.name.value);
      return null; // checked with the variables
    case Kind.BOOLEAN:
    case Kind.ENUM:
    case Kind.FLOAT:
    case Kind.INT:
    case Kind.NULL:
      return null; // bounded by the grammar
  }
}

/** How a variable's value is bounded: its declared type (undefined when the schema does not know it), and whether it fills a document field itself (`sdl: $sdl`). */
export interface VariableBound {
  readonly type: GraphQLInputType | undefined;
  readonly document: boolean;
}

/** What the input limits decide of a document under one schema: a refusal, and how each variable is bounded. */
export interface DocumentInputPlan {
  readonly problem: LimitProblem | null;
  readonly variables: ReadonlyMap<string, VariableBound>;
}

/**
 * What can be checked of a document once per schema (Apollo reuses it for every request with the
 * same text): the requested and the chosen operation's names, and every literal argument, default
 * values of variables included, each string bounded by the input field the schema puts it in;
 * and the bound of each variable of `op`, for variablesInputProblem.
 */
export function documentInputPlan(schema: GraphQLSchema, doc: DocumentNode, requestedName: string | null | undefined, op: OperationDefinitionNode, limits: InputLimits): DocumentInputPlan {
  const uses: VariableUses = { inDocumentField: new Set(), elsewhere: new Set() };
  const variables = new Map<string, VariableBound>();
  const named = nameProblem(requestedName, limits) ?? nameProblem(op.name?.value, limits);
  if (named !== null) return { problem: named, variables };
  let problem: LimitProblem | null = null;
  const typeInfo = new TypeInfo(schema);
  visit(
    doc,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        problem ??= literalProblem(node.value, node.name.value, typeInfo.getArgument()?.type, false, limits, uses);
        return problem === null ? false : BREAK; // the value is walked above, with its type
      },
      VariableDefinition(node) {
        if (node.defaultValue !== undefined) problem ??= literalProblem(node.defaultValue, `$${node.variable.name.value}`, typeInfo.getInputType() ?? undefined, false, limits, uses);
        return problem === null ? false : BREAK;
      },
    }),
  );
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    // A variable used both in a document field and elsewhere keeps the text bound.
    variables.set(name, { type: typeFromAST(schema, def.type) as GraphQLInputType | undefined, document: uses.inDocumentField.has(name) && !uses.elsewhere.has(name) });
  }
  return { problem, variables };
}

const UNTYPED: VariableBound = Object.freeze({ type: undefined, document: false });

/**
 * A variable value (at any depth of lists and input objects) over the text, document or list
 * limit, each string bounded by the input field its declared type puts it in. It runs for every
 * request, so it allocates nothing while values pass: the path for the message is kept as a stack
 * of the keys walked and joined only when a value is refused.
 */
export function variablesInputProblem(values: Readonly<Record<string, unknown>> | undefined, bounds: ReadonlyMap<string, VariableBound>, limits: InputLimits): LimitProblem | null {
  if (values === undefined || values === null) return null;
  const path: string[] = [];
  const where = () => `variable "$${path.join('.')}"`;
  const walk = (v: unknown, type: GraphQLInputType | undefined, document: boolean, depth: number): LimitProblem | null => {
    if (typeof v === 'string') {
      if (v.length <= (document ? limits.maxDocumentLength : limits.maxTextLength)) return null;
      return stringProblem(v.length, where(), document, limits);
    }
    if (v === null || typeof v !== 'object' || depth > 32) return null;
    if (Array.isArray(v)) {
      if (v.length > limits.maxListLength) return { limit: 'MAX_LIST_ARGUMENT_LENGTH', message: `${where()} lists ${v.length} items, over the limit of ${limits.maxListLength}` };
      const items = itemType(type);
      for (const item of v as unknown[]) {
        const p = walk(item, items, document, depth + 1);
        if (p !== null) return p;
      }
      return null;
    }
    const object = v as Record<string, unknown>;
    for (const k in object) {
      if (!Object.hasOwn(object, k)) continue;
      path.push(k);
      const p = walk(object[k], fieldType(type, k), isDocumentField(type, k), depth + 1);
      if (p !== null) return p;
      path.pop();
    }
    return null;
  };
  for (const name in values) {
    if (!Object.hasOwn(values, name)) continue;
    const bound = bounds.get(name) ?? UNTYPED;
    path.push(name);
    const p = walk(values[name], bound.type, bound.document, 0);
    if (p !== null) return p;
    path.pop();
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
