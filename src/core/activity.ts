/**
 * The operator overview's per-minute activity buckets: what they count, how long they are kept,
 * and the arguments of `ActivityBucketStore` checked once above both backends.
 */
import { InvalidArgumentError, InvalidIdError } from './errors.js';

/** The counted figures, as stored. */
export const ACTIVITY_COUNTERS = [
  'logins',
  'refreshes',
  'revocations',
  'reuse',
  'cache_hits',
  'cache_misses',
] as const;
export type ActivityCounter = (typeof ACTIVITY_COUNTERS)[number];
export type ActivityCounts = Record<ActivityCounter, number>;

/** One minute's figures as stored: counters summed over every instance, and the sampled gauge. */
export type MinuteFigures = ActivityCounts & {
  /** Live sessions sampled in that minute; `null`: not sampled. */
  sessions: number | null;
};

/** A minute bucket, in ms. */
export const ACTIVITY_MINUTE_MS = 60_000;

/** How long a minute's bucket is kept, in ms (twice the hour the overview shows). */
export const ACTIVITY_RETENTION_MS = 2 * 60 * 60 * 1000;

/** All counters at zero. */
export function zeroActivity(): ActivityCounts {
  return { logins: 0, refreshes: 0, revocations: 0, reuse: 0, cache_hits: 0, cache_misses: 0 };
}

/** @throws InvalidIdError unless `minuteMs` is the start of a minute (whole ms since the epoch, ≥ 0). */
export function assertActivityMinute(minuteMs: unknown): asserts minuteMs is number {
  if (
    !Number.isSafeInteger(minuteMs) ||
    (minuteMs as number) < 0 ||
    (minuteMs as number) % ACTIVITY_MINUTE_MS !== 0
  ) {
    throw new InvalidIdError('activity minute', 'must be a whole minute in ms since the epoch');
  }
}

/** @throws InvalidArgumentError unless every given delta is a whole number (negative allowed). */
export function assertActivityDeltas(deltas: Partial<ActivityCounts>): void {
  for (const name of ACTIVITY_COUNTERS) {
    const d = deltas[name];
    if (d !== undefined && !Number.isSafeInteger(d)) {
      throw new InvalidArgumentError(`deltas.${name}`, 'must be a whole number');
    }
  }
}

/** @throws InvalidArgumentError unless `sessions` is a whole number ≥ 0. */
export function assertActivitySample(sessions: unknown): void {
  if (!Number.isSafeInteger(sessions) || (sessions as number) < 0) {
    throw new InvalidArgumentError('sessions', 'must be a whole number of at least 0');
  }
}
