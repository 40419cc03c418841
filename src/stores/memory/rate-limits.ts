import type { RateLimitStore } from '../../core/ports.js';
import type { MemoryState } from './state.js';

/** Buckets kept at most; past it the ended windows go first, then the oldest buckets. */
export const MAX_MEMORY_RATE_LIMIT_BUCKETS = 100_000;

/**
 * In-memory `RateLimitStore`: a map from bucket to its window's count and end, for one process.
 * An increment is one synchronous step (atomic). The map stays bounded without a timer: when full,
 * ended windows are dropped, then the least recently started ones (their clients start afresh).
 */
export class MemoryRateLimits implements RateLimitStore {
  readonly #state: MemoryState;
  readonly #windows = new Map<string, { count: number; endsAt: number }>();

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async increment(
    bucket: string,
    windowMs: number,
    count: number,
  ): Promise<{ total: number; ttlMs: number }> {
    const now = this.#state.now();
    let window = this.#windows.get(bucket);
    if (window === undefined || window.endsAt <= now) {
      if (window !== undefined) this.#windows.delete(bucket);
      if (this.#windows.size >= MAX_MEMORY_RATE_LIMIT_BUCKETS) this.#makeRoom(now);
      window = { count: 0, endsAt: now + windowMs };
      // Insertion order is start order: the map's first entries are the oldest windows.
      this.#windows.set(bucket, window);
    }
    window.count += count;
    return { total: window.count, ttlMs: Math.max(0, window.endsAt - now) };
  }

  #makeRoom(now: number): void {
    for (const [bucket, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(bucket);
    for (const bucket of this.#windows.keys()) {
      if (this.#windows.size < MAX_MEMORY_RATE_LIMIT_BUCKETS) break;
      this.#windows.delete(bucket);
    }
  }
}
