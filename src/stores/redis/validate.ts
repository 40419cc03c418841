/**
 * The Redis stores' argument checks: the shared ones in `core/validate` (so both backends refuse
 * the same inputs with the same errors), plus the conversions to Redis expiry arguments.
 */
export {
  assertFiniteNumber,
  assertNonEmptyString,
  assertTtlSeconds,
  assertUserScoped,
} from '../../core/validate.js';

/** A TTL in seconds as whole milliseconds, never 0 (`PX 0` is an error). */
export function ttlMs(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds * 1000));
}

/** Milliseconds from `now` until `at`, as a whole `PX` value (at least 1). */
export function msUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil(at - now));
}
