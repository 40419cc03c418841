/** The arguments of `RateLimitStore.increment`, checked once above both backends. */
import { InvalidArgumentError, InvalidIdError } from './errors.js';

/** A bucket name: what a key may hold without escaping. */
export const RATE_LIMIT_BUCKET = /^[A-Za-z0-9._-]{1,128}$/;

/** Longest window accepted: a day, in ms. */
export const MAX_RATE_LIMIT_WINDOW_MS = 86_400_000;

/**
 * @throws InvalidIdError for a malformed bucket; InvalidArgumentError when `windowMs` (up to a day)
 *   or `count` is not a whole number ≥ 1.
 */
export function assertRateLimitIncrement(bucket: unknown, windowMs: unknown, count: unknown): void {
  if (typeof bucket !== 'string' || !RATE_LIMIT_BUCKET.test(bucket)) {
    throw new InvalidIdError('rate-limit bucket', 'malformed');
  }
  if (
    !Number.isSafeInteger(windowMs) ||
    (windowMs as number) < 1 ||
    (windowMs as number) > MAX_RATE_LIMIT_WINDOW_MS
  ) {
    throw new InvalidArgumentError(
      'windowMs',
      `must be a whole number of ms from 1 to ${MAX_RATE_LIMIT_WINDOW_MS}`,
    );
  }
  if (!Number.isSafeInteger(count) || (count as number) < 1) {
    throw new InvalidArgumentError('count', 'must be a whole number of at least 1');
  }
}
