import type { RateLimitStore } from '../../core/ports.js';
import type { RedisStoreContext } from './context.js';
import { rateLimitIncr } from './lua/rate_limit_incr.js';

/**
 * `RateLimitStore` on Redis: one STRING counter per bucket (`ratelimit:<bucket>`, PX = the window),
 * counted by `rate_limit_incr.lua` (INCRBY, and PEXPIRE when the window starts), so every instance
 * sharing the Redis counts into the same windows. One key per call: no slot concerns on Cluster.
 */
export class RedisRateLimits implements RateLimitStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async increment(
    bucket: string,
    windowMs: number,
    count: number,
  ): Promise<{ total: number; ttlMs: number }> {
    const { client, keys } = this.#ctx;
    return rateLimitIncr(client.runScript.bind(client), {
      counterKey: keys.rateLimit(bucket),
      windowMs,
      count,
    });
  }
}
