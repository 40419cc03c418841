import type { RateLimitStore } from '../ports.js';
import { assertRateLimitIncrement } from '../rate-limit.js';

/** `RateLimitStore` with every argument checked before the backend sees it. */
export class CheckedRateLimits implements RateLimitStore {
  readonly #inner: RateLimitStore;

  constructor(inner: RateLimitStore) {
    this.#inner = inner;
  }

  async increment(
    bucket: string,
    windowMs: number,
    count: number,
  ): Promise<{ total: number; ttlMs: number }> {
    assertRateLimitIncrement(bucket, windowMs, count);
    return this.#inner.increment(bucket, windowMs, count);
  }
}
