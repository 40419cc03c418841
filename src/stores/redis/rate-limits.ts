import type { RateLimitStore } from '../../core/ports.js';
import { assertRateLimitIncrement } from '../../core/rate-limit.js';
import { arg, type RedisStoreContext, replyArray, replyNumber } from './context.js';
import { SCRIPTS } from './scripts.js';

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
    assertRateLimitIncrement(bucket, windowMs, count);
    const { client, keys } = this.#ctx;
    const reply = replyArray(
      await client.runScript(SCRIPTS.rate_limit_incr, [keys.rateLimit(bucket)], [arg(windowMs), arg(count)]),
      'rate_limit_incr',
    );
    return {
      total: replyNumber(reply[0], 'rate_limit_incr'),
      ttlMs: Math.max(0, replyNumber(reply[1], 'rate_limit_incr')),
    };
  }
}
