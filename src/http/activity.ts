/**
 * The operator overview's live figures: logins, refreshes, revocations, detected refresh-token
 * reuse and revocation-cache lookups per minute over the last hour, the live-session count, and
 * Redis health.
 *
 * Nothing is added to a hot path: the routes already count every event in the Prometheus
 * counters (`metrics.ts`) and the revocation cache counts its lookups (`RedisTracking.lookups`);
 * every `flushIntervalMs` (5 s) this module reads those totals, and adds what grew since the last
 * flush to the current minute's bucket: in Redis (`activity:{<minute>}:<field>`, shared by every
 * instance, 2 h TTL) or in process with the memory backend. The overview sums nothing itself:
 * each minute's bucket already holds every instance's counts. A flush that fails is retried by
 * the next one (the counts are kept), so a minute's count may land up to a flush interval late,
 * in the following minute; no count is lost or counted twice while the process lives.
 *
 * The live-session count is a `SCAN` of the store (`StoreMaintenance.stats`): it is sampled at most
 * once a minute across all instances (a `SET NX` claim), and only while someone reads the overview.
 */
import type { Optix } from '../container.js';
import { describeError } from '../core/errors.js';
import type { RedisClient } from '../redis/client.js';
import { luaScript } from '../redis/commands.js';
import { SLOWLOG_ENTRIES, slowlogView, type SlowlogView } from '../container.js';
import { createKeySchema, type KeySchema } from '../stores/redis/keys.js';
import type { Metrics } from './metrics.js';

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
type Counts = Record<ActivityCounter, number>;

/** Minutes the overview shows (the last hour, the current minute included). */
export const OVERVIEW_MINUTES = 60;
/** How long a minute's bucket is kept, in ms (twice what is shown). */
export const ACTIVITY_RETENTION_MS = 2 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;
const SAMPLE = 'sessions';
const SAMPLE_LOCK = 'sessions_lock';

const zero = (): Counts => ({
  logins: 0,
  refreshes: 0,
  revocations: 0,
  reuse: 0,
  cache_hits: 0,
  cache_misses: 0,
});

/** One minute's figures as stored: counters summed over every instance, and the sampled gauge. */
export type MinuteFigures = Counts & { sessions: number | null };

/** Where the per-minute buckets live (Redis: shared by every instance; memory: this process). */
export interface ActivityBuckets {
  /** Adds `deltas` to the minute's counters (one atomic step); the bucket lives the retention. */
  add(minuteMs: number, deltas: Partial<Counts>): Promise<void>;
  /** `true` for the first caller of the minute (across instances): it takes the sample. */
  claimSample(minuteMs: number): Promise<boolean>;
  setSample(minuteMs: number, sessions: number): Promise<void>;
  /** The figures of each minute, in the order given (zeros and `null` where nothing was stored). */
  read(minutes: readonly number[]): Promise<MinuteFigures[]>;
}

/**
 * KEYS: the minute's counters (one hash tag). ARGV[1]: TTL in ms; ARGV[1 + i]: what to add to
 * KEYS[i]. Returns 1.
 */
export const ACTIVITY_ADD_SCRIPT = luaScript(
  'activity_add',
  `for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1`,
  0,
);

const FIELDS = [...ACTIVITY_COUNTERS, SAMPLE] as const;

function figures(values: ReadonlyArray<string | number | null | undefined>): MinuteFigures {
  const out = { ...zero(), sessions: null } as MinuteFigures;
  ACTIVITY_COUNTERS.forEach((name, i) => {
    const n = Number(values[i] ?? 0);
    out[name] = Number.isFinite(n) ? n : 0;
  });
  const s = values[ACTIVITY_COUNTERS.length];
  out.sessions = s === null || s === undefined ? null : Number(s);
  return out;
}

/** Buckets in Redis, under the deployment's key prefix. */
export function redisActivityBuckets(client: RedisClient, keys: KeySchema): ActivityBuckets {
  return {
    async add(minuteMs, deltas) {
      const entries = ACTIVITY_COUNTERS.filter((name) => (deltas[name] ?? 0) !== 0);
      if (entries.length === 0) return;
      await client.runScript(
        ACTIVITY_ADD_SCRIPT,
        entries.map((name) => keys.activity(minuteMs, name)),
        [String(ACTIVITY_RETENTION_MS), ...entries.map((name) => String(deltas[name]))],
      );
    },
    async claimSample(minuteMs) {
      const key = keys.activity(minuteMs, SAMPLE_LOCK);
      const reply = await client.wrap('activity sample claim', () =>
        client.commands.set(key, '1', {
          expiration: { type: 'PX', value: ACTIVITY_RETENTION_MS },
          condition: 'NX',
        }),
      );
      return reply !== null;
    },
    async setSample(minuteMs, sessions) {
      const key = keys.activity(minuteMs, SAMPLE);
      await client.wrap('activity sample', () =>
        client.commands.set(key, String(sessions), {
          expiration: { type: 'PX', value: ACTIVITY_RETENTION_MS },
        }),
      );
    },
    async read(minutes) {
      // One MGET per minute: its keys share the minute's hash tag (one slot on Cluster).
      const replies = await client.wrap('activity read', () =>
        Promise.all(minutes.map((m) => client.commands.mGet(FIELDS.map((name) => keys.activity(m, name))))),
      );
      return replies.map((values) => figures(values));
    },
  };
}

/** Buckets in this process (the memory backend: there is one instance). */
export function memoryActivityBuckets(now: () => number): ActivityBuckets {
  const buckets = new Map<number, MinuteFigures & { claimed: boolean }>();
  const bucket = (minuteMs: number) => {
    let b = buckets.get(minuteMs);
    if (b === undefined) {
      for (const m of buckets.keys()) if (m < now() - ACTIVITY_RETENTION_MS) buckets.delete(m);
      b = { ...zero(), sessions: null, claimed: false };
      buckets.set(minuteMs, b);
    }
    return b;
  };
  return {
    async add(minuteMs, deltas) {
      const b = bucket(minuteMs);
      for (const name of ACTIVITY_COUNTERS) b[name] += deltas[name] ?? 0;
    },
    async claimSample(minuteMs) {
      const b = bucket(minuteMs);
      if (b.claimed) return false;
      b.claimed = true;
      return true;
    },
    async setSample(minuteMs, sessions) {
      bucket(minuteMs).sessions = sessions;
    },
    async read(minutes) {
      return minutes.map((m) => {
        const b = buckets.get(m);
        if (b === undefined) return { ...zero(), sessions: null };
        const { claimed: _claimed, ...rest } = b;
        return rest;
      });
    },
  };
}

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

/** Redis as the overview shows it. */
export interface RedisOverview {
  status: 'healthy' | 'unhealthy';
  topology: 'standalone' | 'sentinel' | 'cluster';
  /** Round trip of a `PING` (every master on Cluster), in ms. */
  latencyMs: number | null;
  usedMemoryBytes: number | null;
  /** `maxmemory` (Cluster: the smallest limit of a master); 0: no limit. */
  maxmemoryBytes: number | null;
  maxmemoryPolicy: string | null;
  /** used / maxmemory in percent; `null` without a limit. */
  memoryPercent: number | null;
  connectedClients: number | null;
  opsPerSec: number | null;
  slowlog: { entries: SlowlogView[]; error: string | null };
  error: string | null;
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
  const buckets =
    redis === null
      ? memoryActivityBuckets(now)
      : redisActivityBuckets(redis, createKeySchema(optix.config.redis?.keyPrefix ?? redis.keyPrefix));

  const totals = async (): Promise<Counts> => {
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
  let flushed: Counts | null = null;
  let inFlight: Promise<void> | null = null;
  const flushOnce = async () => {
    const current = await totals();
    const base = flushed ?? zero();
    const deltas: Partial<Counts> = {};
    for (const name of ACTIVITY_COUNTERS) deltas[name] = current[name] - base[name];
    await buckets.add(Math.floor(now() / MINUTE_MS) * MINUTE_MS, deltas);
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

  // An ACL user without `slowlog` (docs/operations.md's list has none) is refused once, not on
  // every poll: each refusal would be an entry in Redis's ACL LOG.
  let slowlogRefused: string | null = null;
  const readSlowlog = async (client: RedisClient) => {
    if (slowlogRefused !== null) return { entries: [], error: slowlogRefused };
    try {
      return { entries: slowlogView(await client.slowlog(SLOWLOG_ENTRIES)), error: null };
    } catch (err) {
      const error = describeError(err);
      if (/NOPERM/i.test(error)) slowlogRefused = error;
      return { entries: [], error };
    }
  };

  const redisOverview = async (client: RedisClient): Promise<RedisOverview> => {
    const [health, memory, policy, slowlog] = await Promise.all([
      client.healthCheck(),
      client.info('memory').catch(() => null),
      client.checkEvictionPolicy().catch(() => null),
      readSlowlog(client),
    ]);
    const used = typeof memory?.used_memory === 'number' ? memory.used_memory : null;
    const max = policy?.maxmemoryBytes ?? null;
    return {
      status: health.status,
      topology: health.topology,
      latencyMs: health.latencyMs,
      usedMemoryBytes: used,
      maxmemoryBytes: max,
      maxmemoryPolicy: policy?.policy ?? null,
      memoryPercent: used !== null && max !== null && max > 0 ? Math.round((used / max) * 1000) / 10 : null,
      connectedClients: health.connectedClients,
      opsPerSec: health.opsPerSec,
      slowlog,
      error: health.error ?? null,
    };
  };

  return {
    flush,
    async overview() {
      await flush().catch((err: unknown) => onError(err, 'activity_flush_failed'));
      const current = Math.floor(now() / MINUTE_MS) * MINUTE_MS;
      const minutes = Array.from(
        { length: OVERVIEW_MINUTES },
        (_, i) => current - (OVERVIEW_MINUTES - 1 - i) * MINUTE_MS,
      );
      const [stored, redisView] = await Promise.all([
        buckets.read(minutes),
        redis === null ? Promise.resolve(null) : redisOverview(redis),
      ]);
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
