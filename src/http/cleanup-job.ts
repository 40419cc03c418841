/**
 * The service's background cleanup job (the guide's "Background Cleanup Job"): every
 * `CLEANUP_INTERVAL_SECONDS` it runs the library's `cleanup()` round and logs `cleanup_completed`
 * with the stats.
 *
 * Several instances share one Redis: the round is asked not to run within interval − 2 s of the
 * last one (`notWithinMs`: the store claims its schedule key atomically), so the fleet sweeps about
 * once per interval, not once per instance; and the round holds the store's cleanup lock, so two
 * sweeps never overlap even when an operator runs `optix-sessions cleanup` at the same time.
 */
import type { Logger } from 'pino';
import type { Optix } from '../container.js';
import { describeError } from '../core/errors.js';
import type { CleanupStats } from '../core/ports.js';
import { tokenCleanupStats } from '../services/cleanup.js';
import type { Metrics } from './metrics.js';

export type CleanupOutcome =
  | {
      status: 'completed';
      jwtStats: { blacklistIndexEntries: number; durationMs: number };
      sessionStats: CleanupStats;
    }
  | { status: 'skipped'; reason: 'another_instance' | 'still_running' }
  | { status: 'failed'; error: string };

export interface CleanupJob {
  /** Runs one round now (tests, and the first tick). */
  runOnce(): Promise<CleanupOutcome>;
  /** Stops the timer and waits for a round in flight. */
  stop(): Promise<void>;
}

export interface CleanupJobOptions {
  optix: Optix;
  logger: Logger;
  metrics?: Metrics;
  intervalSeconds: number;
}

/** Starts the job (first round after one interval). The timer does not keep the process alive. */
export function startCleanupJob(options: CleanupJobOptions): CleanupJob {
  const { optix, logger, metrics, intervalSeconds } = options;
  const notWithinMs = Math.max(1000, intervalSeconds * 1000 - 2000);
  let running: Promise<CleanupOutcome> | null = null;

  async function round(): Promise<CleanupOutcome> {
    try {
      const outcome = await optix.cleanup({ notWithinMs });
      if (outcome.status === 'skipped') {
        metrics?.cleanupRuns.inc({ result: 'skipped' });
        logger.debug({ reason: 'another_instance', detail: outcome.reason }, 'cleanup_skipped');
        return { status: 'skipped', reason: 'another_instance' };
      }
      const sessionStats = outcome.stats;
      const jwtStats = tokenCleanupStats(sessionStats);
      metrics?.cleanupRuns.inc({ result: 'completed' });
      logger.info({ jwt_stats: jwtStats, session_stats: sessionStats }, 'cleanup_completed');
      return { status: 'completed', jwtStats, sessionStats };
    } catch (err) {
      metrics?.cleanupRuns.inc({ result: 'failed' });
      const error = describeError(err);
      logger.warn({ error }, 'cleanup_failed');
      return { status: 'failed', error };
    }
  }

  function runOnce(): Promise<CleanupOutcome> {
    if (running !== null) return Promise.resolve({ status: 'skipped', reason: 'still_running' });
    const current = round().finally(() => {
      running = null;
    });
    running = current;
    return current;
  }

  const timer = setInterval(() => void runOnce(), intervalSeconds * 1000);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
