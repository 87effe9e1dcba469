import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { exchangeError } from '../common/errors.ts';
import { checkVariables, normaliseKeyVariables, operationProblem, planArgumentChecks, variableProblem, type ArgumentPlan } from './arguments.ts';
import type { CostBudget } from './cost-budget.ts';
import type { GatewayContext } from './governed.ts';
import type { KnownOperations } from './http/known-operations.ts';
import { introspectionShapeProblem, isIntrospectionOnly } from './introspection.ts';
import { checkLimits, costProblem, DEFAULT_LIMITS, documentInputPlan, requestCost, variablesInputProblem, type DocumentInputPlan, type InputLimits, type LimitProblem } from './limits.ts';

/** What the checks below decided about one operation of one document under one schema, kept with the operation. */
const checkPlans = new WeakMap<
  object,
  { schema: GraphQLSchema; limit: string | null; input: DocumentInputPlan; introspection: boolean; args: ArgumentPlan }
>();

/** The bounds on a request's input, and the per-agency budget its cost draws on (null: none). */
export interface InputGuard {
  readonly limits: InputLimits;
  readonly budget: CostBudget | null;
}

function limitRefusal(p: LimitProblem): GraphQLError {
  return exchangeError('BAD_USER_INPUT', `Request refused: ${p.message} (${p.limit}).`, { limit: p.limit });
}

/**
 * Limits and key-argument checks, before planning (docs/errors.md): the refusal, or null. Apollo
 * reuses the parsed document of a known query, so what depends only on the document is worked
 * out once per document, not once per request. `chargeTo`: the agency whose budget the request's
 * cost is drawn from, null when it was drawn already (a request replayed after the direct path).
 */
export async function requestProblem(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, operation: OperationDefinitionNode | undefined, variables: Record<string, unknown> | undefined, guard: InputGuard, chargeTo: string | null): Promise<GraphQLError | null> {
  const unresolved = operationProblem(document, operationName, operation);
  if (unresolved !== null) return exchangeError(unresolved.code, unresolved.message);
  if (operation === undefined) return null;
  let plan = checkPlans.get(operation);
  if (plan?.schema !== schema) {
    const introspection = isIntrospectionOnly(document, operation);
    const limit = introspection ? introspectionShapeProblem(document, operation) : checkLimits(document, operation, DEFAULT_LIMITS);
    plan = {
      schema,
      limit,
      input: documentInputPlan(schema, document, operationName, operation, guard.limits),
      introspection,
      args: planArgumentChecks(schema, document),
    };
    checkPlans.set(operation, plan);
  }
  if (plan.limit !== null) return exchangeError('BAD_USER_INPUT', `Query refused: ${plan.limit}.`, { limit: 'QUERY_SHAPE' });
  if (plan.input.problem !== null) return limitRefusal(plan.input.problem);
  // Sizes first: a huge variable is refused before anything walks or coerces it.
  const tooLarge = variablesInputProblem(variables, plan.input.variables, guard.limits);
  if (tooLarge !== null) return limitRefusal(tooLarge);
  const problem = plan.args.literalProblem ?? variableProblem(schema, operation, variables) ?? checkVariables(plan.args, variables);
  if (problem !== null) return exchangeError('BAD_USER_INPUT', problem.message, { argument: problem.argument });
  normaliseKeyVariables(plan.args, variables);
  if (plan.introspection) return null;
  const cost = requestCost(document, operation, variables);
  const overCost = costProblem(cost, guard.limits);
  if (overCost !== null) return limitRefusal(overCost);
  if (chargeTo !== null && guard.budget !== null) {
    const drawn = await guard.budget.charge(chargeTo, cost);
    if (!drawn.ok) {
      return limitRefusal({
        limit: 'COST_BUDGET_PER_MINUTE',
        message: `agency ${chargeTo} has ${drawn.remaining} of its budget of ${guard.budget.perMinute} per minute left and this request costs ${cost}; retry in ${drawn.retryAfterSeconds} s`,
      });
    }
  }
  return null;
}

/** The checks as an Apollo plugin; an operation that passes them is remembered for the direct path. */
export function requestChecks(known: KnownOperations, guard: InputGuard): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const problem = await requestProblem(rc.schema, rc.document, rc.request.operationName, rc.operation, rc.request.variables, guard, rc.contextValue.replay === undefined ? rc.contextValue.caller.agency : null);
          if (problem !== null) throw problem;
          if (rc.operation !== undefined && rc.request.query !== undefined && rc.request.extensions === undefined) {
            known.remember(rc.request.query, rc.request.operationName, { schema: rc.schema, document: rc.document, operation: rc.operation, queryHash: rc.queryHash });
          }
        },
      };
    },
  };
}
