/**
 * Per-agency request limits (RATE_LIMIT_PER_MINUTE, docs/developers.md): a token bucket per agency that
 * holds a minute's allowance and refills continuously, so an agency may burst up to its limit and
 * then proceeds at the limit's pace. Kept per gateway instance; the clock is injected so tests
 * move time instead of waiting for it.
 */
export type RateDecision =
  | { readonly ok: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly headers: Readonly<Record<string, string>> };

export interface RateLimiter {
  readonly perMinute: number;
  /** Counts one request of the agency and says whether it is within the limit. */
  take(agency: string): RateDecision;
}

const MINUTE_MS = 60_000;

export function rateLimiter(perMinute: number, clock: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / MINUTE_MS;
  // RateLimit header fields as the IETF httpapi draft names them; Reset is when the bucket is full again.
  const headers = (tokens: number): Record<string, string> => ({
    'ratelimit-limit': String(perMinute),
    'ratelimit-remaining': String(Math.max(0, Math.floor(tokens))),
    'ratelimit-reset': String(Math.ceil((perMinute - tokens) / perMs / 1000)),
    'ratelimit-policy': `${perMinute};w=60`,
  });
  return {
    perMinute,
    take(agency) {
      const now = clock();
      const b = buckets.get(agency) ?? { tokens: perMinute, at: now };
      b.tokens = Math.min(perMinute, b.tokens + Math.max(0, now - b.at) * perMs);
      b.at = now;
      buckets.set(agency, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true, headers: headers(b.tokens) };
      }
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
      return { ok: false, retryAfterSeconds, headers: { ...headers(b.tokens), 'retry-after': String(retryAfterSeconds) } };
    },
  };
}
