/**
 * The operator overview's live figures: logins, refreshes, revocations, detected refresh-token
 * reuse and revocation-cache lookups per minute over the last hour, the live-session count, and
 * Redis health.
 *
 * Nothing is added to a hot path: the routes already count every event in the Prometheus
 * counters (`metrics.ts`) and the revocation cache counts its lookups (`RedisTracking.lookups`);
 * every `flushIntervalMs` (5 s) this module reads those totals, and adds what grew since the last
 * flush to the current minute's bucket through the stores' `ActivityBucketStore` port
 * (`optix.stores.activity`): in Redis (`activity:{<minute>}:<field>`, shared by every instance,
 * 2 h TTL) or in process with the memory backend. The overview sums nothing itself:
 * each minute's bucket already holds every instance's counts. A flush that fails is retried by
 * the next one (the counts are kept), so a minute's count may land up to a flush interval late,
 * in the following minute; no count is lost or counted twice while the process lives.
 *
 * The live-session count is a `SCAN` of the store (`StoreMaintenance.stats`): it is sampled at most
 * once a minute across all instances (a `SET NX` claim), and only while someone reads the overview.
 */
import {
  ACTIVITY_COUNTERS,
  ACTIVITY_MINUTE_MS,
  type ActivityCounts,
  zeroActivity,
} from '../core/activity.js';
import type { Optix, RedisOverview } from '../container.js';
import type { Metrics } from './metrics.js';

export {
  ACTIVITY_COUNTERS,
  ACTIVITY_RETENTION_MS,
  type ActivityCounter,
  type MinuteFigures,
} from '../core/activity.js';
export type { RedisOverview } from '../container.js';

/** Minutes the overview shows (the last hour, the current minute included). */
export const OVERVIEW_MINUTES = 60;

/** One minute of the overview. */
export interface OverviewMinute {
  /** Start of the minute, ms since the epoch. */
  minute: number;
  logins: number;
  refreshes: number;
  revocations: number;
  reuse: number;
  /** Live sessions, sampled in that minute while a console was open; `null`: not sampled. */
  sessions: number | null;
  /** Revocation-cache hits / lookups in that minute; `null`: no lookup (or no cache). */
  cacheHitRatio: number | null;
}

export interface Overview {
  generatedAt: number;
  backend: 'memory' | 'redis';
  /** The last hour, oldest minute first; the last entry is the current (partial) minute. */
  minutes: OverviewMinute[];
  /** Sums over the hour. */
  lastHour: { logins: number; refreshes: number; revocations: number; reuse: number };
  revocationCache: {
    /** Whether the client-side cache of revocation checks is on (Redis with REDIS_CLIENT_CACHE). */
    enabled: boolean;
    hits: number;
    misses: number;
    /** hits / (hits + misses) over the hour, every instance; `null` without lookups. */
    hitRatio: number | null;
  };
  redis: RedisOverview | null;
  /** Counts of other instances arrive up to this late (their flush interval), in ms. */
  flushIntervalMs: number;
}

export interface Activity {
  /** Adds what the counters grew since the last flush to the current minute now. */
  flush(): Promise<void>;
  /** The overview (flushes this instance's counts first). */
  overview(): Promise<Overview>;
  /** Stops the timer and flushes one last time (errors are swallowed: the process is ending). */
  close(): Promise<void>;
}

export interface ActivityOptions {
  /** How often counts go to the buckets, in ms (default 5000). */
  flushIntervalMs?: number;
  /** Wall clock in ms (default `Date.now`). */
  now?: () => number;
  /** Told when a flush or a sample fails (gets no secrets). */
  onError?: (err: unknown, what: string) => void;
}

async function sumOf(
  counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  keep: (labels: Record<string, unknown>) => boolean = () => true,
): Promise<number> {
  let total = 0;
  for (const v of (await counter.get()).values) if (keep(v.labels)) total += v.value;
  return total;
}

/**
 * Starts the activity recorder of one HTTP app: reads `metrics` (and the revocation cache's
 * lookups) every `flushIntervalMs` and adds the growth to the shared buckets. Counts from zero:
 * give it the app's own, new `Metrics` (as `buildApp` does).
 */
export function createActivity(optix: Optix, metrics: Metrics, options: ActivityOptions = {}): Activity {
  const now = options.now ?? Date.now;
  const flushIntervalMs = options.flushIntervalMs ?? 5000;
  const onError = options.onError ?? (() => {});
  const redis = optix.redis;
  const buckets = optix.stores.activity;

  const totals = async (): Promise<ActivityCounts> => {
    const lookups = redis?.tracking?.lookups;
    return {
      logins: await sumOf(metrics.sessionsCreated),
      refreshes: await sumOf(metrics.refreshes, (l) => l.outcome === 'rotated'),
      revocations: await sumOf(metrics.revocations),
      reuse: await sumOf(metrics.reuseDetections),
      cache_hits: lookups?.hits ?? 0,
      cache_misses: lookups?.misses ?? 0,
    };
  };

  // From zero: the app's metrics are made with it (buildApp), so everything they count is this
  // instance's activity.
  let flushed: ActivityCounts | null = null;
  let inFlight: Promise<void> | null = null;
  const flushOnce = async () => {
    const current = await totals();
    const base = flushed ?? zeroActivity();
    const deltas: Partial<ActivityCounts> = {};
    for (const name of ACTIVITY_COUNTERS) deltas[name] = current[name] - base[name];
    await buckets.add(Math.floor(now() / ACTIVITY_MINUTE_MS) * ACTIVITY_MINUTE_MS, deltas);
    // Only once stored: a failed flush leaves the counts for the next one.
    flushed = current;
  };
  const flush = (): Promise<void> => {
    // One flush at a time: two at once would add the same growth twice.
    inFlight ??= flushOnce().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  const timer = setInterval(() => {
    flush().catch((err: unknown) => onError(err, 'activity_flush_failed'));
  }, flushIntervalMs);
  timer.unref();

  let sampling = false;
  const sample = async (minuteMs: number) => {
    if (sampling) return;
    sampling = true;
    try {
      if (!(await buckets.claimSample(minuteMs))) return;
      const stats = await optix.stores.maintenance.stats();
      await buckets.setSample(minuteMs, stats.sessions);
    } catch (err) {
      onError(err, 'activity_sample_failed');
    } finally {
      sampling = false;
    }
  };

  return {
    flush,
    async overview() {
      await flush().catch((err: unknown) => onError(err, 'activity_flush_failed'));
      const current = Math.floor(now() / ACTIVITY_MINUTE_MS) * ACTIVITY_MINUTE_MS;
      const minutes = Array.from(
        { length: OVERVIEW_MINUTES },
        (_, i) => current - (OVERVIEW_MINUTES - 1 - i) * ACTIVITY_MINUTE_MS,
      );
      const [stored, redisView] = await Promise.all([buckets.read(minutes), optix.redisOverview()]);
      if (stored[stored.length - 1]?.sessions === null) void sample(current);
      const lastHour = { logins: 0, refreshes: 0, revocations: 0, reuse: 0 };
      let hits = 0;
      let misses = 0;
      const rows = stored.map((f, i): OverviewMinute => {
        lastHour.logins += f.logins;
        lastHour.refreshes += f.refreshes;
        lastHour.revocations += f.revocations;
        lastHour.reuse += f.reuse;
        hits += f.cache_hits;
        misses += f.cache_misses;
        const lookups = f.cache_hits + f.cache_misses;
        return {
          minute: minutes[i]!,
          logins: f.logins,
          refreshes: f.refreshes,
          revocations: f.revocations,
          reuse: f.reuse,
          sessions: f.sessions,
          cacheHitRatio: lookups === 0 ? null : f.cache_hits / lookups,
        };
      });
      return {
        generatedAt: now(),
        backend: optix.backend,
        minutes: rows,
        lastHour,
        revocationCache: {
          enabled: (redis?.tracking ?? null) !== null,
          hits,
          misses,
          hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
        },
        redis: redisView,
        flushIntervalMs,
      };
    },
    async close() {
      clearInterval(timer);
      await flush().catch(() => {});
    },
  };
}
