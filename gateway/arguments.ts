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
  type ValueNode,
} from 'graphql';
import { checkIdNumber, checkUscc, type CodeProblem } from '../common/codes.ts';

/**
 * The agencies' key scalars, checked at the gateway: a wrong check character is refused before
 * anything is planned or fetched (the supergraph's scalars are opaque to the gateway).
 */
const CHECKS: Readonly<Record<string, (v: string) => CodeProblem | null>> = { USCC: checkUscc, IDNumber: checkIdNumber };

export interface ArgumentProblem {
  readonly argument: string;
  readonly message: string;
}

function badValue(scalar: string, value: unknown): string | null {
  if (typeof value !== 'string') return `${scalar} must be a string`;
  const problem = CHECKS[scalar]!(value.toUpperCase());
  return problem === null ? null : `"${value}" is not a valid ${scalar}: wrong ${problem}`;
}

/** Literal arguments and the variables a document declares with a checked scalar type. */
export interface ArgumentPlan {
  readonly literalProblem: ArgumentProblem | null;
  readonly variables: readonly { name: string; scalar: string }[];
}

export function planArgumentChecks(schema: GraphQLSchema, doc: DocumentNode): ArgumentPlan {
  let literalProblem: ArgumentProblem | null = null;
  const variables: { name: string; scalar: string }[] = [];
  const typeInfo = new TypeInfo(schema);
  const checkLiteral = (where: string, type: GraphQLInputType | null | undefined, value: ValueNode): void => {
    if (literalProblem !== null || type === null || type === undefined || value.kind === Kind.VARIABLE) return;
    const named = getNamedType(type);
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner) && value.kind === Kind.LIST) {
      for (const v of value.values) checkLiteral(where, inner.ofType, v);
      return;
    }
    if (isInputObjectType(named) && value.kind === Kind.OBJECT) {
      for (const f of value.fields) checkLiteral(`${where}.${f.name.value}`, named.getFields()[f.name.value]?.type, f.value);
      return;
    }
    if (Object.hasOwn(CHECKS, named.name) && value.kind !== Kind.NULL) {
      const message = badValue(named.name, value.kind === Kind.STRING ? value.value : null);
      if (message !== null) literalProblem = { argument: where, message: `argument "${where}": ${message}` };
    }
  };
  visit(doc, visitWithTypeInfo(typeInfo, {
    Argument(node) {
      checkLiteral(node.name.value, typeInfo.getArgument()?.type, node.value);
    },
    VariableDefinition(node) {
      let t = node.type;
      while (t.kind !== Kind.NAMED_TYPE) t = t.type;
      if (Object.hasOwn(CHECKS, t.name.value)) variables.push({ name: node.variable.name.value, scalar: t.name.value });
    },
  }));
  return { literalProblem, variables };
}

/** Checks the request's variable values against the plan; null when all are well-formed. */
export function checkVariables(plan: ArgumentPlan, values: Readonly<Record<string, unknown>> | undefined): ArgumentProblem | null {
  if (plan.variables.length === 0 || values === undefined) return null;
  for (const { name, scalar } of plan.variables) {
    const value = values[name];
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null) continue;
      const message = badValue(scalar, v);
      if (message !== null) return { argument: name, message: `variable "$${name}": ${message}` };
    }
  }
  return null;
}
