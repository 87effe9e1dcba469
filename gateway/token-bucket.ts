import { Redis } from 'ioredis';

/**
 * Per-agency token buckets, the one mechanism behind the rate limit (one token a request) and the
 * cost budget (a request's estimated cost in tokens). A bucket holds a minute's allowance and
 * refills continuously, so an agency may burst up to it and then proceeds at its pace. With Redis
 * every gateway instance draws from the same bucket; otherwise each keeps its own. The clock is
 * injected so tests move time instead of waiting for it.
 */
export interface Draw {
  readonly ok: boolean;
  /** Tokens left after the draw (before it, when it was refused). */
  readonly tokens: number;
}

export interface TokenBuckets {
  readonly perMinute: number;
  /** Draws `amount` from the agency's bucket when it holds that much; otherwise draws nothing. */
  draw(agency: string, amount: number): Promise<Draw>;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;

/** The bucket after `elapsedMs` of refill and `amount` drawn from it, when it held that much. */
function refillAndDraw(perMinute: number, tokens: number, elapsedMs: number, amount: number): Draw {
  const refilled = Math.min(perMinute, tokens + Math.max(0, elapsedMs) * (perMinute / MINUTE_MS));
  return amount <= refilled ? { ok: true, tokens: refilled - amount } : { ok: false, tokens: refilled };
}

/** Buckets in this process only. */
export function localBuckets(perMinute: number, clock: () => number = Date.now): TokenBuckets {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    perMinute,
    draw(agency, amount) {
      const now = clock();
      const b = buckets.get(agency) ?? { tokens: perMinute, at: now };
      const next = refillAndDraw(perMinute, b.tokens, now - b.at, amount);
      buckets.set(agency, { tokens: next.tokens, at: now });
      return Promise.resolve(next);
    },
    close: () => Promise.resolve(),
  };
}

/**
 * The same bucket as `refillAndDraw`, read, refilled, drawn from and written back in one script, so
 * two gateways drawing at once cannot both spend the last tokens. Floats travel as strings: Redis
 * truncates Lua numbers to integers. The key lapses once a full minute has refilled it anyway.
 */
const DRAW_SCRIPT = `
local limit = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or limit
local at = tonumber(b[2]) or now
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(limit, tokens + elapsed * limit / 60000)
local ok = 0
if amount <= tokens then
  tokens = tokens - amount
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return { ok, tostring(tokens) }
`;

interface DrawingRedis extends Redis {
  drawTokens(key: string, perMinute: number, now: number, amount: number): Promise<[number, string]>;
}

/**
 * Buckets shared by every instance over Redis, under `<prefix><name>:<agency>`. While Redis does
 * not answer, each instance falls back to its own buckets (the allowance then holds per instance,
 * as without Redis) and says so once, naming `what` is limited.
 */
export function sharedBuckets(
  perMinute: number,
  redis: { readonly url: string; readonly prefix: string },
  opts: { readonly name: string; readonly what: string; readonly clock?: () => number; readonly warn: (line: string) => void },
): TokenBuckets {
  const clock = opts.clock ?? Date.now;
  const local = localBuckets(perMinute, clock);
  const client = new Redis(redis.url, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000, retryStrategy: () => 500 }) as DrawingRedis;
  client.on('error', () => undefined);
  client.defineCommand('drawTokens', { numberOfKeys: 1, lua: DRAW_SCRIPT });
  let fallingBack = false;
  return {
    perMinute,
    async draw(agency, amount) {
      try {
        const [ok, tokens] = await client.drawTokens(`${redis.prefix}${opts.name}:${agency}`, perMinute, clock(), amount);
        if (fallingBack) opts.warn(`${opts.what}: Redis answers again; shared by all instances again`);
        fallingBack = false;
        return { ok: ok === 1, tokens: Number(tokens) };
      } catch (e) {
        if (!fallingBack) opts.warn(`${opts.what}: Redis does not answer (${e instanceof Error ? e.message : String(e)}); limiting per instance until it does`);
        fallingBack = true;
        return local.draw(agency, amount);
      }
    },
    close() {
      client.disconnect();
      return Promise.resolve();
    },
  };
}
