/**
 * The cleanup round, once for every caller (the service's background job, `POST
 * /v1/admin/cleanup`, `optix-sessions cleanup`): one locked pass of the store's maintenance over
 * every index (sessions, devices, token blacklist, revoked families, trusted devices, security
 * events). The lock and the fleet's schedule are the store's (`StoreMaintenance.cleanup`); nothing
 * is pruned outside the lock.
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { CleanupStats, Stores } from '../core/ports.js';

export interface CleanupOptions {
  /** Called after each bounded step with the keys looked at so far and the total when known. */
  onProgress?: (scanned: number, total: number | null) => void;
  /**
   * Skip (`not_due`) when any process sharing the store started a round less than this many
   * milliseconds ago (the background job's schedule). Absent: run now unless a round is running.
   */
  notWithinMs?: number;
}

export type CleanupOutcome =
  | { status: 'completed'; stats: CleanupStats }
  /**
   * `lock_held`: another round is running; `not_due`: one started within `notWithinMs`. Nothing
   * was looked at (`stats` counts all 0).
   */
  | { status: 'skipped'; reason: 'lock_held' | 'not_due'; stats: CleanupStats };

/** Longest schedule accepted: a day. */
const MAX_NOT_WITHIN_MS = 86_400_000;

/**
 * Runs one cleanup round now, under the store's cleanup lock.
 * @throws InvalidArgumentError for a `notWithinMs` that is not a whole number of ms from 1 to a
 *   day; StoreUnavailableError when the store is down.
 * @example
 * const outcome = await cleanup(stores);
 * if (outcome.status === 'completed') console.log(outcome.stats.scanned);
 */
export async function cleanup(
  stores: Pick<Stores, 'maintenance'>,
  options: CleanupOptions = {},
): Promise<CleanupOutcome> {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('options', 'must be an object');
  const { onProgress, notWithinMs } = options;
  if (
    notWithinMs !== undefined &&
    (!Number.isSafeInteger(notWithinMs) || notWithinMs < 1 || notWithinMs > MAX_NOT_WITHIN_MS)
  ) {
    throw new InvalidArgumentError(
      'notWithinMs',
      `must be a whole number of ms from 1 to ${MAX_NOT_WITHIN_MS}`,
    );
  }
  const stats = await stores.maintenance.cleanup(
    onProgress,
    notWithinMs === undefined ? {} : { notWithinMs },
  );
  if (stats.skipped) return { status: 'skipped', reason: stats.skippedBecause ?? 'lock_held', stats };
  return { status: 'completed', stats };
}

/**
 * The token-index share of a completed round, in the shape `JwtService.cleanupExpiredTokens`
 * returns (what `jwt_stats` in the job's log and `jwt` in `POST /v1/admin/cleanup` report).
 */
export function tokenCleanupStats(stats: CleanupStats): {
  blacklistIndexEntries: number;
  durationMs: number;
} {
  return { blacklistIndexEntries: stats.blacklistIndexEntries, durationMs: stats.durationMs };
}
