import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
  getVariableValues,
  OperationTypeNode,
} from 'graphql';
import { checkIdNumber, checkUscc, type CodeProblem } from '../common/codes.ts';
import { normalisedEntityKey } from '../common/entity-key.ts';

/** A check of one argument value: null when fine, else a sentence naming the bad value. */
type ValueCheck = (value: unknown) => string | null;

function codeCheck(scalar: string, check: (v: string) => CodeProblem | null): ValueCheck {
  return (value) => {
    if (typeof value !== 'string') return `${scalar} must be a string`;
    const problem = check(value.toUpperCase());
    return problem === null ? null : `"${value}" is not a valid ${scalar}: wrong ${problem}`;
  };
}

/**
 * The agencies' key scalars, checked at the gateway: a wrong check character is refused before
 * anything is planned or fetched (the supergraph's scalars are opaque to the gateway).
 */
const SCALAR_CHECKS: Readonly<Record<string, ValueCheck>> = { USCC: codeCheck('USCC', checkUscc), IDNumber: codeCheck('IDNumber', checkIdNumber) };

/** A GB/T 2260 administrative division code: six digits, the first the region of the country. */
export const divisionCode: ValueCheck = (value) => {
  if (typeof value !== 'string') return 'a division code must be a string';
  return /^[1-8]\d{5}$/.test(value) ? null : `"${value.slice(0, 32)}" is not an administrative division code (6 digits, e.g. 445200)`;
};

/** Arguments typed String in the schema whose values still have a form, by argument coordinate. */
const ARGUMENT_CHECKS: Readonly<Record<string, ValueCheck>> = { 'Query.regionEmissionTotals(region:)': divisionCode };

export interface ArgumentProblem {
  readonly argument: string;
  readonly message: string;
}

/** Literal arguments and the variables whose values need a check (by declared type or by use). */
export interface ArgumentPlan {
  readonly literalProblem: ArgumentProblem | null;
  readonly variables: readonly { readonly name: string; readonly check: ValueCheck; readonly entityKey?: true }[];
}

export function planArgumentChecks(schema: GraphQLSchema, doc: DocumentNode): ArgumentPlan {
  let literalProblem: ArgumentProblem | null = null;
  const variables: { name: string; check: ValueCheck; entityKey?: true }[] = [];
  const typeInfo = new TypeInfo(schema);
  const checkLiteral = (where: string, type: GraphQLInputType | null | undefined, value: ValueNode, byArgument?: ValueCheck): void => {
    if (literalProblem !== null || type === null || type === undefined || value.kind === Kind.VARIABLE) return;
    const named = getNamedType(type);
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner) && value.kind === Kind.LIST) {
      for (const v of value.values) checkLiteral(where, inner.ofType, v, byArgument);
      return;
    }
    if (isInputObjectType(named) && value.kind === Kind.OBJECT) {
      for (const f of value.fields) checkLiteral(`${where}.${f.name.value}`, named.getFields()[f.name.value]?.type, f.value);
      return;
    }
    const check = byArgument ?? (Object.hasOwn(SCALAR_CHECKS, named.name) ? SCALAR_CHECKS[named.name] : undefined);
    if (check !== undefined && value.kind !== Kind.NULL) {
      const message = check(value.kind === Kind.STRING ? value.value : null);
      if (message !== null) literalProblem = { argument: where, message: `argument "${where}": ${message}` };
    }
  };
  visit(doc, visitWithTypeInfo(typeInfo, {
    Argument(node) {
      const coordinate = `${typeInfo.getParentType()?.name ?? ''}.${typeInfo.getFieldDef()?.name ?? ''}(${node.name.value}:)`;
      const byArgument = Object.hasOwn(ARGUMENT_CHECKS, coordinate) ? ARGUMENT_CHECKS[coordinate] : undefined;
      if (byArgument !== undefined && node.value.kind === Kind.VARIABLE) variables.push({ name: node.value.name.value, check: byArgument });
      checkLiteral(node.name.value, typeInfo.getArgument()?.type, node.value, byArgument);
    },
    VariableDefinition(node) {
      let t = node.type;
      while (t.kind !== Kind.NAMED_TYPE) t = t.type;
      const check = Object.hasOwn(SCALAR_CHECKS, t.name.value) ? SCALAR_CHECKS[t.name.value] : undefined;
      if (check !== undefined) variables.push({ name: node.variable.name.value, check, entityKey: true });
    },
  }));
  return { literalProblem, variables };
}

/** Checks the request's variable values against the plan; null when all are well-formed. */
export function checkVariables(plan: ArgumentPlan, values: Readonly<Record<string, unknown>> | undefined): ArgumentProblem | null {
  if (plan.variables.length === 0 || values === undefined) return null;
  for (const { name, check } of plan.variables) {
    const value = values[name];
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null) continue;
      const message = check(v);
      if (message !== null) return { argument: name, message: `variable "$${name}": ${message}` };
    }
  }
  return null;
}

/**
 * Puts the USCC and ID number variables of a checked request in their one spelling (upper case),
 * in place, before anything is decided, fetched or recorded: the subgraphs, the audit record and
 * every later look-up then see the same key whatever case the caller wrote.
 */
export function normaliseKeyVariables(plan: ArgumentPlan, values: Record<string, unknown> | undefined): void {
  if (values === undefined) return;
  for (const { name, entityKey } of plan.variables) {
    if (entityKey !== true) continue;
    const value = values[name];
    if (typeof value === 'string') values[name] = normalisedEntityKey(value);
    else if (Array.isArray(value)) values[name] = value.map((v: unknown) => (typeof v === 'string' ? normalisedEntityKey(v) : v));
  }
}

/**
 * Coerces the variables as execution would, so that a missing required variable or a value of
 * the wrong type is a 400 naming it, not a 200 with `data: null` after planning.
 */
export function variableProblem(schema: GraphQLSchema, operation: OperationDefinitionNode, values: Readonly<Record<string, unknown>> | undefined): ArgumentProblem | null {
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return null;
  const coerced = getVariableValues(schema, definitions, values ?? {}, { maxErrors: 1 });
  const error = coerced.errors?.[0];
  if (error === undefined) return null;
  const named = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/.exec(error.message);
  return { argument: named?.[1] ?? 'variables', message: error.message };
}

export type OperationProblem = { readonly code: 'OPERATION_RESOLUTION_FAILURE' | 'BAD_REQUEST'; readonly message: string };

/** Why no operation of the document can run (OPERATION_RESOLUTION_FAILURE, docs/errors.md), or null. */
export function operationProblem(doc: DocumentNode, operationName: string | null | undefined, operation: OperationDefinitionNode | undefined): OperationProblem | null {
  if (operation === undefined) {
    const names = doc.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? '(anonymous)'] : []));
    if (typeof operationName === 'string' && operationName !== '') {
      return { code: 'OPERATION_RESOLUTION_FAILURE', message: `No operation named "${operationName.slice(0, 64)}" in the document; it has ${names.slice(0, 10).join(', ') || 'none'}.` };
    }
    return { code: 'OPERATION_RESOLUTION_FAILURE', message: `The document has ${names.length} operations; choose one with operationName (${names.slice(0, 10).join(', ')}).` };
  }
  if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
    return { code: 'BAD_REQUEST', message: 'Subscriptions are not served; the exchange answers queries and mutations over HTTP.' };
  }
  return null;
}
