/**
 * The service's background cleanup job (the guide's "Background Cleanup Job"): every
 * `CLEANUP_INTERVAL_SECONDS` it prunes token and session indexes and logs `cleanup_completed`
 * with the stats.
 *
 * Several instances share one Redis: before sweeping, an instance takes the schedule key
 * (`SET maintenance:cleanup_schedule <token> NX PX <interval − 2 s>`), so the fleet sweeps about
 * once per interval, not once per instance. The sweep itself also holds the stores' cleanup lock
 * (`maintenance:cleanup_lock`), so two sweeps never overlap even when an operator runs
 * `optix-sessions cleanup` at the same time.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Optix } from '../container.js';
import type { CleanupStats } from '../core/ports.js';
import { describeError } from '../redis/errors.js';
import { createKeySchema } from '../stores/redis/keys.js';
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
  const holder = randomBytes(12).toString('base64url');
  const scheduleMs = Math.max(1000, intervalSeconds * 1000 - 2000);
  const scheduleKey = optix.redis
    ? createKeySchema(optix.config.redis?.keyPrefix ?? optix.redis.keyPrefix).cleanupSchedule()
    : null;
  let running: Promise<CleanupOutcome> | null = null;

  async function takeTurn(): Promise<boolean> {
    const redis = optix.redis;
    if (redis === null || scheduleKey === null) return true; // in memory: one process, always our turn
    const reply = await redis.wrap('set', () =>
      redis.commands.set(scheduleKey, holder, {
        expiration: { type: 'PX', value: scheduleMs },
        condition: 'NX',
      }),
    );
    return reply !== null;
  }

  async function round(): Promise<CleanupOutcome> {
    try {
      if (!(await takeTurn())) {
        metrics?.cleanupRuns.inc({ result: 'skipped' });
        logger.debug({ reason: 'another_instance' }, 'cleanup_skipped');
        return { status: 'skipped', reason: 'another_instance' };
      }
      const jwtStats = await optix.jwt.cleanupExpiredTokens();
      const sessionStats = await optix.sessions.cleanupExpiredSessions();
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
