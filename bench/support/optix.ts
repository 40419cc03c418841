/**
 * Our side of every library scenario, built from the public API only (`src/index.ts`):
 * `RedisClient` → `createRedisStores` → `createJwtService` / `createSessionManager`, with the
 * options `src/container.ts` passes when the environment sets nothing but `REDIS_URL` and
 * `JWT_SECRET` (the defaults of `loadConfig`). Whatever `RedisClient` turns on by default (such as a
 * client-side cache) is measured as it comes.
 */
import {
  clientSideCacheFor,
  createJwtService,
  createRedisStores,
  loadIdCodec,
  createSessionManager,
  type JwtService,
  RedisClient,
  type RedisClientOptions,
  type SessionManager,
  type Stores,
} from '../../src/index.js';

/** HS256 secret shared with the peers (they verify our tokens). */
export const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef-0123456789abcdef';
export const JWT_KID = 'bench-hs256';
export const ISSUER = 'optix-sessions';
export const AUDIENCE = 'optix';
export const KEY_PREFIX = 'optix:';
export const ACCESS_TTL_SECONDS = 900;

export interface OurSide {
  redis: RedisClient;
  stores: Stores;
  jwt: JwtService;
  sessions: SessionManager;
  /** When the side connected (ms): its client-side cache has listened since about then. */
  connectedAt: number;
  close(): Promise<void>;
}

/**
 * The stores' `maxClockSkewMs` (the default): with `REDIS_FIRST_SIGHT=watch`, a token minted less
 * than this after an instance began listening is read at its first sight on that instance.
 */
export const MAX_CLOCK_SKEW_MS = 5000;

/**
 * Waits until tokens minted from now on count as minted after `our` began listening (its
 * `connectedAt` + `MAX_CLOCK_SKEW_MS` + 1 s): the steady state of an instance that has run longer
 * than the skew allowance. A bench that mints its tokens in the first seconds after connecting
 * would otherwise measure the start-up window, where every first sight reads Redis.
 */
export async function pastStartUpWindow(our: OurSide): Promise<void> {
  const wait = our.connectedAt + MAX_CLOCK_SKEW_MS + 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** The options `createOptix` gives `RedisClient` with `loadConfig`'s defaults. */
export const REDIS_CLIENT_OPTIONS = {
  maxConnections: 50,
  socketTimeoutMs: 5000,
  connectTimeoutMs: 5000,
  commandTimeoutMs: 1000,
  retryOnTimeout: true,
  keyPrefix: KEY_PREFIX,
  clientName: 'optix-sessions',
  clientSideCache: clientSideCacheFor(KEY_PREFIX),
} as const;

/** `options` override `REDIS_CLIENT_OPTIONS` (e.g. `clientSideCache` to compare tracking modes). */
export async function createOurSide(
  url: string,
  options: Partial<RedisClientOptions> = {},
): Promise<OurSide> {
  const redis = new RedisClient({ url, ...REDIS_CLIENT_OPTIONS, ...options });
  await redis.connect();
  const connectedAt = Date.now();
  // Sealed ids, as the service issues them (the deployment's secret on this Redis).
  const ids = await loadIdCodec(redis, { keyPrefix: KEY_PREFIX });
  const stores = createRedisStores(redis, { keyPrefix: KEY_PREFIX, ids });
  const jwt = createJwtService({
    stores,
    keys: [{ kid: JWT_KID, alg: 'HS256', secret: JWT_SECRET }],
    activeKid: JWT_KID,
    issuer: ISSUER,
    audience: AUDIENCE,
    accessTokenTtlSeconds: ACCESS_TTL_SECONDS,
    refreshTokenTtlSeconds: 2_592_000,
    refreshGraceSeconds: 10,
    clockToleranceSeconds: 0,
  });
  const sessions = createSessionManager({
    stores,
    sessionTimeoutMinutes: 30,
    absoluteLifetimeMinutes: 720,
    maxSessionsPerUser: 5,
    sessionLimitPolicy: 'evict-oldest',
  });
  return { redis, stores, jwt, sessions, connectedAt, close: () => redis.close() };
}
