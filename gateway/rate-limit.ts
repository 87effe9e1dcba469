import { localBuckets, sharedBuckets, type TokenBuckets } from './token-bucket.ts';

/**
 * Per-agency request limits (RATE_LIMIT_PER_MINUTE, docs/developers.md): a token bucket per agency that
 * holds a minute's allowance and refills continuously, so an agency may burst up to its limit and
 * then proceeds at the limit's pace (gateway/token-bucket.ts). With REDIS_URL the bucket lives in
 * Redis and every gateway instance draws from the same one; otherwise it is kept per instance.
 */
export type RateDecision =
  | { readonly ok: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly headers: Readonly<Record<string, string>> };

export interface RateLimiter {
  readonly perMinute: number;
  /** Counts one request of the agency and says whether it is within the limit. */
  take(agency: string): Promise<RateDecision>;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;

function decision(perMinute: number, ok: boolean, tokens: number): RateDecision {
  const perMs = perMinute / MINUTE_MS;
  // RateLimit header fields as the IETF httpapi draft names them; Reset is when the bucket is full again.
  const headers: Record<string, string> = {
    'ratelimit-limit': String(perMinute),
    'ratelimit-remaining': String(Math.max(0, Math.floor(tokens))),
    'ratelimit-reset': String(Math.ceil((perMinute - tokens) / perMs / 1000)),
    'ratelimit-policy': `${perMinute};w=60`,
  };
  if (ok) return { ok: true, headers };
  const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
  return { ok: false, retryAfterSeconds, headers: { ...headers, 'retry-after': String(retryAfterSeconds) } };
}

function limiter(buckets: TokenBuckets): RateLimiter {
  return {
    perMinute: buckets.perMinute,
    async take(agency) {
      const drawn = await buckets.draw(agency, 1);
      return decision(buckets.perMinute, drawn.ok, drawn.tokens);
    },
    close: () => buckets.close(),
  };
}

/** Buckets in this process only. */
export function rateLimiter(perMinute: number, clock: () => number = Date.now): RateLimiter {
  return limiter(localBuckets(perMinute, clock));
}

/**
 * Buckets shared by every instance over Redis. While Redis does not answer, each instance falls
 * back to its own buckets (the limit then holds per instance, as without Redis) and says so once.
 */
export function sharedRateLimiter(perMinute: number, redis: { readonly url: string; readonly prefix: string }, opts: { clock?: () => number; warn: (line: string) => void }): RateLimiter {
  return limiter(sharedBuckets(perMinute, redis, { name: 'ratelimit', what: 'rate limits', clock: opts.clock, warn: opts.warn }));
}
