/**
 * The composition root: builds everything one process needs, once, from the configuration, and
 * hands it back with one `close()`. The HTTP app, the server, the CLI and the tests all start
 * here; nothing imports a global.
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { OptixConfig } from './config/types.js';
import type { Clock } from './core/clock.js';
import type { StoreStats, Stores } from './core/ports.js';
import { RedisClient, type RedisClientLogger } from './connection/client.js';
import type { RedisHealth, SlowlogEntry } from './connection/diagnostics.js';
import { describeError } from './connection/errors.js';
import { MemoryGuard } from './connection/memory-guard.js';
import { createJwtService } from './services/jwt-service.js';
import { type BrowserHandoffs, createBrowserHandoffs } from './services/browser-handoff.js';
import { type CleanupOptions, type CleanupOutcome, cleanup } from './services/cleanup.js';
import {
  type HandoffLoginResult,
  type LoginInput,
  type LoginResult,
  login,
  loginWithHandoff,
} from './services/login.js';
import { revokeUser } from './services/revoke-user.js';
import { createSessionManager } from './services/session-manager.js';
import type { JwtService, SessionManager } from './services/types.js';
import { createMemoryStores } from './stores/memory/index.js';
import { clientSideCacheFor, createRedisStores, loadIdCodec } from './stores/redis/index.js';
import { createIdCodec, type IdCodec } from './core/ids.js';
import { SCRIPTS } from './stores/redis/lua/index.js';

export interface OptixDeps {
  /** Told about Redis connection trouble (gets no secrets). */
  logger?: RedisClientLogger;
  /** Where time comes from (tests pass a `ManualClock`). */
  clock?: Clock;
  /**
   * OpenTelemetry: a span per Redis operation, from this provider's tracer. None (the default):
   * no tracing and nothing of OpenTelemetry loaded.
   */
  tracerProvider?: TracerProvider;
  /** A standalone Redis that refuses the connection fails at once instead of being retried (CLI). */
  failFastOnRefused?: boolean;
}

/** The instrumentation scope of our spans. */
export const TRACER_NAME = 'optix-sessions';

/** Selected Redis INFO fields (sections memory, clients, stats, keyspace). */
export interface RedisInfoSummary {
  usedMemoryBytes: number | null;
  usedMemoryHuman: string | null;
  maxmemoryPolicy: string | null;
  connectedClients: number | null;
  opsPerSec: number | null;
  keyspaceHits: number | null;
  keyspaceMisses: number | null;
  evictedKeys: number | null;
  expiredKeys: number | null;
  /** `db0` → `keys=…,expires=…,avg_ttl=…`. */
  keyspace: Record<string, string>;
  /** `SLOWLOG GET 10`, newest first, without arguments; `error` when Redis refused (ACL). */
  slowlog: { entries: SlowlogView[]; error: string | null };
}

/** A SLOWLOG entry with the name of our script an `EVALSHA` ran (`session_create` …). */
export interface SlowlogView extends SlowlogEntry {
  readonly script: string | null;
}

/** How many SLOWLOG entries stats show (the guide's `SLOWLOG GET 10`). */
export const SLOWLOG_ENTRIES = 10;

const SCRIPT_NAMES: ReadonlyMap<string, string> = new Map(
  Object.values(SCRIPTS).map((script) => [script.sha1, script.name]),
);

/** SLOWLOG entries with the names of our scripts their SHA1s are. */
export function slowlogView(entries: readonly SlowlogEntry[]): SlowlogView[] {
  return entries.map((e) => ({
    ...e,
    script: e.scriptSha1 === null ? null : (SCRIPT_NAMES.get(e.scriptSha1) ?? null),
  }));
}

/** `GET /v1/admin/stats` and `optix-sessions stats`. */
export interface OptixStats {
  backend: 'memory' | 'redis';
  store: StoreStats;
  redis: RedisInfoSummary | null;
}

/** What the health check of the backend reports (`/readyz`, `optix-sessions health`). */
export type BackendHealth = RedisHealth | { status: 'healthy'; topology: 'memory' };

/** Redis as the operator overview shows it (`Optix.redisOverview`). */
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
  /** `SLOWLOG GET 10`; `error` when Redis refused (ACL). */
  slowlog: { entries: SlowlogView[]; error: string | null };
  error: string | null;
}

export interface Optix {
  readonly config: OptixConfig;
  readonly backend: 'memory' | 'redis';
  /** The connected client, or `null` with the in-memory backend. */
  readonly redis: RedisClient | null;
  /** The write shedding under memory pressure, or `null` (memory backend, or shedding off). */
  readonly memoryGuard: MemoryGuard | null;
  readonly stores: Stores;
  readonly jwt: JwtService;
  readonly sessions: SessionManager;
  /** One-time codes that hand a new session to a browser (browser mode). */
  readonly handoffs: BrowserHandoffs;
  /** `login()` with this process's services: a new session and its first token pair, or neither. */
  login(input: LoginInput): Promise<LoginResult>;
  /** `loginWithHandoff()`: a new session and a one-time browser hand-off code, or neither. */
  loginWithHandoff(input: LoginInput): Promise<HandoffLoginResult>;
  /** `cleanup()` on this process's stores: one locked round over every index. */
  cleanup(options?: CleanupOptions): Promise<CleanupOutcome>;
  /** `revokeUser()`: every token of the user stops verifying (O(1)), then every session ends; returns how many ended. */
  revokeUser(userId: string, reason: string): Promise<number>;
  /** Never throws; `unhealthy` carries a readable error. */
  health(): Promise<BackendHealth>;
  /** Counts of live records (bounded SCANs) and, with Redis, INFO memory/clients/stats/keyspace. */
  stats(onProgress?: (scanned: number) => void): Promise<OptixStats>;
  /**
   * Redis health for the operator overview (topology, PING latency, memory against maxmemory,
   * slow log), or `null` with the in-memory backend. Never throws: what Redis refuses or fails is
   * `null` or an `error`. A slow log refused by the ACL (NOPERM) is not asked again in this
   * process: each refusal would be an entry in Redis's ACL LOG.
   */
  redisOverview(): Promise<RedisOverview | null>;
  /** Closes the Redis connection (if any). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Builds the stores (Redis when `config.redis` is set, memory otherwise), the JWT service and the
 * session manager.
 *
 * @throws StoreUnavailableError (ERR_STORE_UNAVAILABLE) when Redis cannot be reached within
 *   `REDIS_CONNECT_TIMEOUT_MS`; ConfigError for options the services reject.
 * @example
 * const optix = await createOptix(loadConfig(process.env));
 * try { … } finally { await optix.close(); }
 */
export async function createOptix(config: OptixConfig, deps: OptixDeps = {}): Promise<Optix> {
  let redis: RedisClient | null = null;
  let guard: MemoryGuard | null = null;
  let stores: Stores;
  // The deployment's id secret: ID_TAG_SECRET, else the one on Redis (memory: random per process).
  const idTagSecret = config.idTagSecret === null ? null : Buffer.from(config.idTagSecret, 'utf8');
  if (config.redis !== null) {
    const r = config.redis;
    redis = new RedisClient(
      {
        url: r.url,
        maxConnections: r.maxConnections,
        socketTimeoutMs: r.socketTimeoutMs,
        connectTimeoutMs: r.connectTimeoutMs,
        commandTimeoutMs: r.commandTimeoutMs,
        retryOnTimeout: r.retryOnTimeout,
        clientSideCache: r.clientCache ? clientSideCacheFor(r.keyPrefix, r.clientCacheMode) : false,
        ...(r.replicaAcks === undefined ? {} : { replicaAcks: r.replicaAcks }),
        keyPrefix: r.keyPrefix,
        ...(r.tls ? { tls: r.tls } : {}),
        clientName: 'optix-sessions',
      },
      {
        ...(deps.logger ? { logger: deps.logger } : {}),
        ...(deps.tracerProvider ? { tracer: deps.tracerProvider.getTracer(TRACER_NAME) } : {}),
      },
    );
    await redis.connect(deps.failFastOnRefused ? { failFastOnRefused: true } : {});
    let ids: IdCodec;
    try {
      ids = await loadIdCodec(redis, {
        keyPrefix: r.keyPrefix,
        ...(idTagSecret ? { secret: idTagSecret } : {}),
      });
    } catch (err) {
      await redis.close();
      throw err;
    }
    if (r.shedAbovePercent > 0) {
      const client = redis;
      guard = new MemoryGuard(client, {
        shedAbovePercent: r.shedAbovePercent,
        sampleIntervalMs: r.memorySampleIntervalMs,
      });
      client.onOom = () => guard?.noteOom();
      try {
        await guard.start();
      } catch (err) {
        await client.close();
        throw err;
      }
    }
    stores = createRedisStores(redis, {
      keyPrefix: r.keyPrefix,
      ids,
      maxEventsPerUser: config.sessions.maxSecurityEventsPerUser,
      firstSight: r.firstSight,
      maxClockSkewMs: r.maxClockSkewMs,
      ...(guard !== null ? { admission: guard } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
  } else {
    stores = createMemoryStores({
      maxEventsPerUser: config.sessions.maxSecurityEventsPerUser,
      ...(idTagSecret ? { ids: createIdCodec(idTagSecret) } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
  }

  try {
    const sessions = createSessionManager({
      stores,
      sessionTimeoutMinutes: config.sessions.idleTimeoutMinutes,
      absoluteLifetimeMinutes: config.sessions.absoluteTimeoutMinutes,
      maxSessionsPerUser: config.sessions.maxSessionsPerUser,
      sessionLimitPolicy: config.sessions.limitPolicy,
      maxTrustedDevicesPerUser: config.sessions.maxTrustedDevicesPerUser,
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
    const jwt = createJwtService({
      stores,
      keys: config.jwt.keys,
      activeKid: config.jwt.activeKid,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
      refreshGraceSeconds: config.jwt.refreshGraceSeconds,
      clockToleranceSeconds: config.jwt.clockToleranceSeconds,
      ...(deps.clock ? { clock: deps.clock } : {}),
      // Refreshes and introspections slide the session's idle timeout through it.
      sessions,
    });
    const handoffs = createBrowserHandoffs({
      stores,
      jwt,
      sessions,
      ttlSeconds: config.browser.handoffTtlSeconds,
    });
    const client = redis;
    let closed = false;
    // An ACL user without `slowlog` (docs/operations.md's list has none) is refused once, not on
    // every overview poll.
    let slowlogRefused: string | null = null;
    const readSlowlog = async (c: RedisClient): Promise<RedisOverview['slowlog']> => {
      if (slowlogRefused !== null) return { entries: [], error: slowlogRefused };
      try {
        return { entries: slowlogView(await c.slowlog(SLOWLOG_ENTRIES)), error: null };
      } catch (err) {
        const error = describeError(err);
        if (/NOPERM/i.test(error)) slowlogRefused = error;
        return { entries: [], error };
      }
    };
    return Object.freeze({
      config,
      backend: client === null ? 'memory' : 'redis',
      redis: client,
      memoryGuard: guard,
      stores,
      jwt,
      sessions,
      handoffs,
      login: (input: LoginInput) => login({ sessions, jwt }, input),
      loginWithHandoff: (input: LoginInput) => loginWithHandoff({ sessions, handoffs }, input),
      cleanup: (options?: CleanupOptions) => cleanup(stores, options),
      revokeUser: (userId: string, reason: string) => revokeUser({ jwt, sessions }, userId, reason),
      async health(): Promise<BackendHealth> {
        if (client === null) return { status: 'healthy', topology: 'memory' };
        return client.healthCheck();
      },
      async stats(onProgress?: (scanned: number) => void): Promise<OptixStats> {
        const store = await stores.maintenance.stats(onProgress);
        if (client === null) return { backend: 'memory', store, redis: null };
        const [[memory, clients, stats, keyspace], slowlog] = await Promise.all([
          Promise.all(['memory', 'clients', 'stats', 'keyspace'].map((section) => client.info(section))),
          client.slowlog(SLOWLOG_ENTRIES).then(
            (entries) => ({ entries: slowlogView(entries), error: null }),
            // An ACL user without `slowlog` still gets the rest of the stats.
            (err: unknown) => ({ entries: [], error: describeError(err) }),
          ),
        ]);
        const num = (v: unknown) => (typeof v === 'number' ? v : null);
        const str = (v: unknown) => (v === undefined ? null : String(v));
        return {
          backend: 'redis',
          store,
          redis: {
            usedMemoryBytes: num(memory?.used_memory),
            usedMemoryHuman: str(memory?.used_memory_human),
            maxmemoryPolicy: str(memory?.maxmemory_policy),
            connectedClients: num(clients?.connected_clients),
            opsPerSec: num(stats?.instantaneous_ops_per_sec),
            keyspaceHits: num(stats?.keyspace_hits),
            keyspaceMisses: num(stats?.keyspace_misses),
            evictedKeys: num(stats?.evicted_keys),
            expiredKeys: num(stats?.expired_keys),
            keyspace: Object.fromEntries(Object.entries(keyspace ?? {}).map(([k, v]) => [k, String(v)])),
            slowlog,
          },
        };
      },
      async redisOverview(): Promise<RedisOverview | null> {
        if (client === null) return null;
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
          memoryPercent:
            used !== null && max !== null && max > 0 ? Math.round((used / max) * 1000) / 10 : null,
          connectedClients: health.connectedClients,
          opsPerSec: health.opsPerSec,
          slowlog,
          error: health.error ?? null,
        };
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        guard?.stop();
        await client?.close();
      },
    } satisfies Optix);
  } catch (err) {
    guard?.stop();
    await redis?.close();
    throw err;
  }
}
