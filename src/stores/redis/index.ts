/**
 * Redis stores: every port of `core/ports.ts` on node-redis (`@redis/client` v6), on standalone
 * Redis, Sentinel or Cluster. The key layout is in `keys.ts` and `docs/data-model.md`; every
 * multi-key change is one Lua script on one hash slot (`scripts/*.lua`).
 */
import { checkStores } from '../../core/checked/index.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { randomBytes } from 'node:crypto';
import { ConfigError, StoreTimeoutError, StoreUnavailableError } from '../../core/errors.js';
import { resolveEventRetention } from '../../core/limits.js';
import { createIdCodec, type IdCodec, MIN_ID_TAG_SECRET_BYTES, PLAIN_ID_CODEC } from '../../core/ids.js';
import type { WriteAdmission } from '../../connection/memory-guard.js';
import type { GuideStores } from '../../core/ports.js';
import type { RedisClient } from '../../connection/client.js';
import type { ClientSideCacheOptions } from '../../connection/config.js';
import { uncoveredPrefix } from '../../connection/tracking.js';
import type { RedisStoreContext } from './context.js';
import { createKeySchema } from './keys.js';
import { RedisActivityBuckets } from './activity-buckets.js';
import { RedisHandoffs } from './handoffs.js';
import { RedisStoreMaintenance } from './maintenance.js';
import { RedisRateLimits } from './rate-limits.js';
import { RedisRefreshFamilies } from './refresh-families.js';
import { RedisRevocationChecker } from './revocation.js';
import { RedisSecurityEvents } from './security-events.js';
import { RedisSessionStore } from './session-store.js';
import { RedisTokenBlacklist } from './token-blacklist.js';
import { RedisTrustedDevices } from './trusted-devices.js';
import { idSecretInit } from './lua/id_secret_init.js';

export { createKeySchema, type KeySchema } from './keys.js';
export { RedisActivityBuckets } from './activity-buckets.js';
export { RedisHandoffs } from './handoffs.js';
export { RedisStoreMaintenance } from './maintenance.js';
export { RedisRateLimits } from './rate-limits.js';
export { RedisRefreshFamilies } from './refresh-families.js';
export { RedisRevocationChecker } from './revocation.js';
export { SCRIPTS } from './lua/index.js';
export { RedisSecurityEvents } from './security-events.js';
export { RedisSessionStore } from './session-store.js';
export { BLACKLIST_INDEX_MAX, RedisTokenBlacklist } from './token-blacklist.js';
export { RedisTrustedDevices } from './trusted-devices.js';

// The defaults and enums live in core/limits.ts; these entry points keep exporting them.
export {
  DEFAULT_EVENT_LIMIT,
  DEFAULT_MAX_EVENTS_PER_USER,
  DEFAULT_SECURITY_EVENT_TTL_SECONDS,
  MAX_EVENT_LIMIT,
  REUSE_REASON,
} from '../../core/limits.js';

export interface RedisStoresOptions {
  /** Namespace for every key (letters, digits, `._:-`, ≤ 64). Default: `client.keyPrefix`. */
  keyPrefix?: string;
  /** Where time comes from (default `systemClock`). Scripts receive it as an argument, never `TIME`. */
  clock?: Clock;
  /**
   * Makes and reads generated ids; every process sharing the Redis must use the same secret
   * (`loadIdTagSecret` reads or creates the deployment's). Default: the unkeyed old form
   * (`PLAIN_ID_CODEC`), for tools and tests; `createOptix` always passes the deployment's codec.
   */
  ids?: IdCodec;
  /** Retention of security events, in seconds (default 90 days). */
  securityEventTtlSeconds?: number;
  /** Bound of each user's security event index (default 1000). */
  maxEventsPerUser?: number;
  /**
   * Asked before the writes that can wait under memory pressure (a `MemoryGuard`): refused logins
   * and device trusts reject with `StoreBusyError`, refused events are dropped. Default: none.
   */
  admission?: WriteAdmission;
  /**
   * A token's first verification when the client's cache tracks in broadcasting mode on standalone
   * Redis (`RedisClient.tracking`, `clientSideCacheFor`). `watch` (default): a token minted after
   * this process began listening, whose user's revoke-all generation and session are already known
   * here, is answered without a read — no write to its blacklist entry or its family's revocation
   * mark was heard, and every such write is pushed here (`RevocationWatch`). `read`: every first
   * sight reads Redis. Use `read` while any process sharing the Redis runs a version that revokes
   * families without writing their mark (before this option existed).
   */
  firstSight?: 'watch' | 'read';
  /**
   * The most the clocks of the processes minting tokens may run ahead of this one's, in ms
   * (default 5000, at most 60000): a token counts as minted after listening began only when its
   * `iat_ms` is at least this much later.
   */
  maxClockSkewMs?: number;
}

/**
 * The id codec of the deployment on this Redis (and key prefix). With `secret` (at least 32 bytes,
 * e.g. `ID_TAG_SECRET` from a secret store) that secret keys it and Redis is not touched;
 * otherwise the secret stored at `keys.idTagSecret()` is read, created first with SET NX when
 * absent (no TTL), so every instance and the CLI share it, and it survives signing-key rotations.
 *
 * @throws StoreUnavailableError when Redis cannot be reached or holds a malformed secret (fail
 *   closed: a different secret would make every id handed out unreadable).
 */
export async function loadIdCodec(
  client: RedisClient,
  options: { keyPrefix?: string; secret?: Uint8Array } = {},
): Promise<IdCodec> {
  if (options.secret !== undefined) return createIdCodec(options.secret);
  const key = createKeySchema(options.keyPrefix ?? client.keyPrefix).idTagSecret();
  const candidate = randomBytes(MIN_ID_TAG_SECRET_BYTES).toString('base64url');
  // Read once, at start, often as the first command a process sends (a cold server, NOSCRIPT then
  // EVAL): a slow answer is asked again, twice, before the start fails. SET NX makes a repeat safe
  // (an attempt that landed after its deadline is read back, never replaced).
  let stored: string | null = null;
  for (let attempt = 1; ; attempt++) {
    try {
      stored = await idSecretInit(client.runScript.bind(client), { secretKey: key, candidate });
      break;
    } catch (err) {
      if (!(err instanceof StoreTimeoutError) || attempt === 3) throw err;
    }
  }
  const secret = stored === null ? null : Buffer.from(stored, 'base64url');
  if (secret === null || secret.length < MIN_ID_TAG_SECRET_BYTES || secret.toString('base64url') !== stored) {
    throw new StoreUnavailableError(`Redis ${key} does not hold an id-tag secret of at least 32 bytes`);
  }
  return createIdCodec(secret);
}

/**
 * The client-side cache options for stores under `keyPrefix`: in `broadcast` mode (what the
 * service uses) the tracked connection tracks exactly the key prefixes the stores read through it
 * (`KeySchema.trackedPrefixes`); in `default` mode Redis tracks each key read.
 *
 * @example
 * const redis = new RedisClient({ url, keyPrefix: 'optix:', clientSideCache: clientSideCacheFor('optix:') });
 */
export function clientSideCacheFor(
  keyPrefix: string,
  mode: 'broadcast' | 'default' = 'broadcast',
): ClientSideCacheOptions {
  return mode === 'default' ? {} : { broadcastPrefixes: createKeySchema(keyPrefix).trackedPrefixes };
}

/**
 * A tracked connection in broadcasting mode is pushed only writes under its prefixes: a key the
 * stores read through it outside them would be cached and never invalidated (a revoked token
 * accepted until the entry's `ttlMs`). Refused here, once, rather than trusted.
 */
function assertTrackedKeysCovered(client: RedisClient, tracked: readonly string[]): void {
  const broadcast = client.tracking?.broadcastPrefixes ?? [];
  if (broadcast.length === 0) return;
  const prefix = uncoveredPrefix(broadcast, tracked);
  if (prefix !== undefined) {
    throw new ConfigError(
      'clientSideCache.broadcastPrefixes',
      `do not cover '${prefix}', read through the tracked connection (pass the key schema's trackedPrefixes)`,
    );
  }
}

function resolveFirstSight(options: RedisStoresOptions): { watch: boolean; skewMs: number } {
  const mode = options.firstSight ?? 'watch';
  if (mode !== 'watch' && mode !== 'read') throw new ConfigError('firstSight', "must be 'watch' or 'read'");
  const skewMs = options.maxClockSkewMs ?? 5000;
  if (!Number.isSafeInteger(skewMs) || skewMs < 0 || skewMs > 60_000) {
    throw new ConfigError('maxClockSkewMs', 'must be an integer from 0 to 60000');
  }
  return { watch: mode === 'watch', skewMs };
}

/**
 * Builds every store over one connected `RedisClient`, each behind its checked facade
 * (`core/checked/`): the classes below only store. The stores hold no state of their own, so
 * any number of processes may share the same Redis and key prefix.
 *
 * @throws ConfigError (ERR_CONFIG) when `keyPrefix` has characters other than letters, digits and
 *   `._:-`, `securityEventTtlSeconds` is not a finite number > 0, or `maxEventsPerUser` is not an
 *   integer ≥ 1, `firstSight` or `maxClockSkewMs` is out of range, or the client's cache tracks
 *   in broadcasting mode with prefixes that do not cover
 *   the key schema's `trackedPrefixes`.
 * @example
 * const redis = new RedisClient({ url: process.env.REDIS_URL! });
 * await redis.connect();
 * const stores = createRedisStores(redis, { keyPrefix: 'optix:' });
 * await stores.tokenBlacklist.blacklistToken({ jti, ttlSeconds: 900, reason: 'user_logout' });
 */
export function createRedisStores(client: RedisClient, options: RedisStoresOptions = {}): GuideStores {
  const ids = options.ids ?? PLAIN_ID_CODEC;
  const keys = createKeySchema(options.keyPrefix ?? client.keyPrefix, ids);
  assertTrackedKeysCovered(client, keys.trackedPrefixes);
  const { eventRetentionMs, maxEventsPerUser } = resolveEventRetention(options);
  const ctx: RedisStoreContext = {
    client,
    keys,
    ids,
    clock: options.clock ?? systemClock,
    eventRetentionMs,
    maxEventsPerUser,
    admission: options.admission ?? null,
  };
  return checkStores(
    {
      ids,
      tokenBlacklist: new RedisTokenBlacklist(ctx),
      sessionStore: new RedisSessionStore(ctx),
      trustedDevices: new RedisTrustedDevices(ctx),
      securityEvents: new RedisSecurityEvents(ctx),
      refreshFamilies: new RedisRefreshFamilies(ctx),
      revocation: new RedisRevocationChecker(ctx, resolveFirstSight(options)),
      maintenance: new RedisStoreMaintenance(ctx),
      rateLimits: new RedisRateLimits(ctx),
      handoffs: new RedisHandoffs(ctx),
      activity: new RedisActivityBuckets(ctx),
    },
    ctx.clock,
  );
}
