/**
 * Conversions to Redis expiry arguments. (Argument checks are made once, above the backends, by
 * the checked facades in `core/checked/`.)
 */
export { ttlMs } from '../../core/limits.js';

/** Milliseconds from `now` until `at`, as a whole `PX` value (at least 1). */
export function msUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil(at - now));
}
