import { Redis } from 'ioredis';

/**
 * Per-agency request limits (RATE_LIMIT_PER_MINUTE, docs/developers.md): a token bucket per agency that
 * holds a minute's allowance and refills continuously, so an agency may burst up to its limit and
 * then proceeds at the limit's pace. With REDIS_URL the bucket lives in Redis and every gateway
 * instance draws from the same one; otherwise it is kept per instance. The clock is injected so
 * tests move time instead of waiting for it.
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

/** The bucket after `elapsedMs` of refill and one request taken from it, when there was one. */
function draw(perMinute: number, tokens: number, elapsedMs: number): { ok: boolean; tokens: number } {
  const refilled = Math.min(perMinute, tokens + Math.max(0, elapsedMs) * (perMinute / MINUTE_MS));
  return refilled >= 1 ? { ok: true, tokens: refilled - 1 } : { ok: false, tokens: refilled };
}

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

/** Buckets in this process only. */
export function rateLimiter(perMinute: number, clock: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    perMinute,
    take(agency) {
      const now = clock();
      const b = buckets.get(agency) ?? { tokens: perMinute, at: now };
      const next = draw(perMinute, b.tokens, now - b.at);
      buckets.set(agency, { tokens: next.tokens, at: now });
      return Promise.resolve(decision(perMinute, next.ok, next.tokens));
    },
    close: () => Promise.resolve(),
  };
}

/**
 * The same bucket as `draw`, read, refilled, drawn from and written back in one script, so two
 * gateways taking at once cannot both spend the last token. Floats travel as strings: Redis
 * truncates Lua numbers to integers. The key lapses once a full minute has refilled it anyway.
 */
const DRAW_SCRIPT = `
local limit = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or limit
local at = tonumber(b[2]) or now
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(limit, tokens + elapsed * limit / 60000)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return { ok, tostring(tokens) }
`;

interface DrawingRedis extends Redis {
  drawToken(key: string, perMinute: number, now: number): Promise<[number, string]>;
}

/**
 * Buckets shared by every instance over Redis. While Redis does not answer, each instance falls
 * back to its own buckets (the limit then holds per instance, as without Redis) and says so once.
 */
export function sharedRateLimiter(perMinute: number, redis: { readonly url: string; readonly prefix: string }, opts: { clock?: () => number; warn: (line: string) => void }): RateLimiter {
  const clock = opts.clock ?? Date.now;
  const local = rateLimiter(perMinute, clock);
  const client = new Redis(redis.url, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000, retryStrategy: () => 500 }) as DrawingRedis;
  client.on('error', () => undefined);
  client.defineCommand('drawToken', { numberOfKeys: 1, lua: DRAW_SCRIPT });
  let fallingBack = false;
  return {
    perMinute,
    async take(agency) {
      try {
        const [ok, tokens] = await client.drawToken(`${redis.prefix}ratelimit:${agency}`, perMinute, clock());
        if (fallingBack) opts.warn('rate limits: Redis answers again; limits are shared by all instances again');
        fallingBack = false;
        return decision(perMinute, ok === 1, Number(tokens));
      } catch (e) {
        if (!fallingBack) opts.warn(`rate limits: Redis does not answer (${e instanceof Error ? e.message : String(e)}); limiting per instance until it does`);
        fallingBack = true;
        return local.take(agency);
      }
    },
    async close() {
      client.disconnect();
      return Promise.resolve();
    },
  };
}
