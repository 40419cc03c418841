/**
 * Per-client rate limits for refresh, revoke and introspect (@fastify/rate-limit). With Redis the
 * counters live in Redis, so every instance shares them; the plugin's own Redis store assumes
 * ioredis, hence this small store over our `RedisClient`. Without Redis the plugin's in-memory LRU
 * store is used (one process).
 */
import { createHash } from 'node:crypto';
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';
import type { RouteOptions } from 'fastify';
import { luaScript, type RedisClient } from '../redis/client.js';
import type { KeySchema } from '../stores/redis/keys.js';

/**
 * Fixed-window counter. Atomic, so concurrent requests from many instances count exactly.
 *
 *   KEYS[1] the bucket's counter (STRING integer)
 *   ARGV[1] window length, ms
 *   return  { count after this request, ms left in the window }
 */
export const RATE_LIMIT_SCRIPT = luaScript(
  'rate_limit_incr',
  `local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
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

/**
 * A store class for `@fastify/rate-limit` over `client`. Each route gets its own child (`route`
 * names the bucket family). Store failures are reported to the plugin, which lets the request
 * through (`skipOnError`): a Redis outage must not turn into refused refreshes on top of it.
 */
export function redisRateLimitStore(client: RedisClient, keys: KeySchema) {
  class RedisRateLimitStore implements FastifyRateLimitStore {
    readonly #route: string;
    constructor(_options: FastifyRateLimitOptions, route = 'global') {
      this.#route = route;
    }
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      let redisKey: string;
      try {
        redisKey = keys.rateLimit(clientBucket(this.#route, key));
      } catch (err) {
        callback(err as Error);
        return;
      }
      client.runScript(RATE_LIMIT_SCRIPT, [redisKey], [String(timeWindow)]).then(
        (reply) => {
          const [current, ttl] = Array.isArray(reply) ? reply : [];
          callback(null, { current: Number(current), ttl: Math.max(0, Number(ttl)) });
        },
        (err: unknown) => callback(err as Error),
      );
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
