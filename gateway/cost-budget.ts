import { localBuckets, sharedBuckets, type TokenBuckets } from './token-bucket.ts';

/**
 * Per-agency cost budget (COST_BUDGET_PER_MINUTE): the estimated cost of an agency's requests
 * (gateway/limits.ts requestCost) drawn from a token bucket that holds a minute's budget and
 * refills continuously, the same bucket the rate limiter draws request counts from. A request
 * counts rate and size together: a hundred cheap reads and one expensive list read draw the same
 * budget. With REDIS_URL every gateway instance draws from the same budget (each on its own while
 * Redis does not answer); otherwise it is kept per instance.
 */
export type BudgetDecision = { readonly ok: true } | { readonly ok: false; readonly remaining: number; readonly retryAfterSeconds: number };

export interface CostBudget {
  readonly perMinute: number;
  /** Draws `cost` from the agency's budget when it is there; otherwise draws nothing. */
  charge(agency: string, cost: number): Promise<BudgetDecision>;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;

function budget(buckets: TokenBuckets): CostBudget {
  const perMs = buckets.perMinute / MINUTE_MS;
  return {
    perMinute: buckets.perMinute,
    async charge(agency, cost) {
      const drawn = await buckets.draw(agency, cost);
      if (drawn.ok) return { ok: true };
      return { ok: false, remaining: Math.floor(drawn.tokens), retryAfterSeconds: Math.max(1, Math.ceil((cost - drawn.tokens) / perMs / 1000)) };
    },
    close: () => buckets.close(),
  };
}

/** A budget per gateway instance. */
export function costBudget(perMinute: number, clock: () => number = Date.now): CostBudget {
  return budget(localBuckets(perMinute, clock));
}

/** A budget shared by every instance over Redis. */
export function sharedCostBudget(perMinute: number, redis: { readonly url: string; readonly prefix: string }, opts: { clock?: () => number; warn: (line: string) => void }): CostBudget {
  return budget(sharedBuckets(perMinute, redis, { name: 'costbudget', what: 'cost budgets', clock: opts.clock, warn: opts.warn }));
}
