/**
 * Per-agency cost budget (COST_BUDGET_PER_MINUTE): the estimated cost of an agency's requests
 * (gateway/limits.ts requestCost) drawn from a bucket that holds a minute's budget and refills
 * continuously, as the rate limiter's bucket does for request counts. A request counts rate and
 * size together: a hundred cheap reads and one expensive list read draw the same budget. Kept per
 * gateway instance; the clock is injected so tests move time instead of waiting for it.
 */
export type BudgetDecision = { readonly ok: true } | { readonly ok: false; readonly remaining: number; readonly retryAfterSeconds: number };

export interface CostBudget {
  readonly perMinute: number;
  /** Draws `cost` from the agency's budget when it is there; otherwise draws nothing. */
  charge(agency: string, cost: number): BudgetDecision;
}

const MINUTE_MS = 60_000;

export function costBudget(perMinute: number, clock: () => number = Date.now): CostBudget {
  const buckets = new Map<string, { left: number; at: number }>();
  const perMs = perMinute / MINUTE_MS;
  return {
    perMinute,
    charge(agency, cost) {
      const now = clock();
      const b = buckets.get(agency) ?? { left: perMinute, at: now };
      b.left = Math.min(perMinute, b.left + Math.max(0, now - b.at) * perMs);
      b.at = now;
      buckets.set(agency, b);
      if (cost <= b.left) {
        b.left -= cost;
        return { ok: true };
      }
      return { ok: false, remaining: Math.floor(b.left), retryAfterSeconds: Math.max(1, Math.ceil((cost - b.left) / perMs / 1000)) };
    },
  };
}
