/**
 * Per-client rate limits for refresh, revoke and introspect (@fastify/rate-limit). With Redis the
 * counters live in Redis, so every instance shares them; the plugin's own Redis store assumes
 * ioredis, hence this small store over our `RedisClient`. Without Redis the plugin's in-memory LRU
 * store is used (one process).
 */
import { createHash } from 'node:crypto';
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';
import type { RouteOptions } from 'fastify';
import type { RedisClient } from '../redis/client.js';
import { luaScript } from '../redis/commands.js';
import type { KeySchema } from '../stores/redis/keys.js';

/**
 * Fixed-window counter. Atomic, so concurrent requests from many instances count exactly.
 *
 *   KEYS[1] the bucket's counter (STRING integer)
 *   ARGV[1] window length, ms
 *   ARGV[2] requests to add (≥ 1: requests that arrived together are counted in one call)
 *   return  { count after them, ms left in the window }
 */
export const RATE_LIMIT_SCRIPT = luaScript(
  'rate_limit_incr',
  `local current = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if current == tonumber(ARGV[2]) or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { current, ttl }`,
  1,
);

/** A client identity as a bucket-safe string: a digest, so raw keys and addresses never reach Redis. */
export function clientBucket(route: string, client: string): string {
  return `${route}.${createHash('sha256').update(client).digest('base64url').slice(0, 22)}`;
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Bucket keys remembered (digests are not recomputed per request); cleared when full. */
const MAX_REMEMBERED_BUCKETS = 10_000;

/**
 * A store class for `@fastify/rate-limit` over `client`. Each route gets its own child (`route`
 * names the bucket family). Store failures are reported to the plugin, which lets the request
 * through (`skipOnError`): a Redis outage must not turn into refused refreshes on top of it.
 *
 * Requests of one bucket are coalesced, not approximated: while a bucket's call to Redis is in
 * flight, the requests that arrive queue up and go in the next call as one `INCRBY n`, and each
 * gets its exact place in the count (`total - n + i`). A lone request costs one call, as before;
 * a busy client costs one call per round trip instead of one per request. (Hand-written because
 * the plugin's own Redis store assumes ioredis and sends one call per request.)
 */
export function redisRateLimitStore(client: RedisClient, keys: KeySchema) {
  /** Per Redis key: the requests waiting for the next call, and whether one is in flight. */
  const pending = new Map<string, { waiting: Callback[]; inFlight: boolean; windowMs: number }>();

  function send(redisKey: string): void {
    const bucket = pending.get(redisKey);
    if (bucket === undefined || bucket.inFlight) return;
    if (bucket.waiting.length === 0) {
      pending.delete(redisKey);
      return;
    }
    const batch = bucket.waiting;
    bucket.waiting = [];
    bucket.inFlight = true;
    const settle = (deliver: (cb: Callback, i: number) => void) => {
      bucket.inFlight = false;
      batch.forEach(deliver);
      send(redisKey);
    };
    client.runScript(RATE_LIMIT_SCRIPT, [redisKey], [String(bucket.windowMs), String(batch.length)]).then(
      (reply) => {
        const [total, ttl] = Array.isArray(reply) ? reply : [];
        const first = Number(total) - batch.length;
        settle((cb, i) => cb(null, { current: first + i + 1, ttl: Math.max(0, Number(ttl)) }));
      },
      (err: unknown) => settle((cb) => cb(err as Error)),
    );
  }

  class RedisRateLimitStore implements FastifyRateLimitStore {
    readonly #route: string;
    readonly #redisKeys = new Map<string, string>();
    constructor(_options: FastifyRateLimitOptions, route = 'global') {
      this.#route = route;
    }
    incr(key: string, callback: Callback, timeWindow: number): void {
      let redisKey = this.#redisKeys.get(key);
      if (redisKey === undefined) {
        try {
          redisKey = keys.rateLimit(clientBucket(this.#route, key));
        } catch (err) {
          callback(err as Error);
          return;
        }
        if (this.#redisKeys.size >= MAX_REMEMBERED_BUCKETS) this.#redisKeys.clear();
        this.#redisKeys.set(key, redisKey);
      }
      let bucket = pending.get(redisKey);
      if (bucket === undefined) {
        bucket = { waiting: [], inFlight: false, windowMs: timeWindow };
        pending.set(redisKey, bucket);
      }
      bucket.waiting.push(callback);
      if (!bucket.inFlight) send(redisKey);
    }
    child(routeOptions: RouteOptions & { path: string; prefix: string }): FastifyRateLimitStore {
      // The plugin passes the merged limit options, with the route under `routeInfo`.
      const info = (routeOptions as unknown as { routeInfo?: { url?: string } }).routeInfo;
      const route = String(info?.url ?? routeOptions.url ?? 'route')
        .replace(/[^A-Za-z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '');
      return new RedisRateLimitStore({}, route || 'route');
    }
  }
  return RedisRateLimitStore;
}
