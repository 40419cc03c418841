/**
 * In-memory stores: the reference implementation of every port in `core/ports.ts`, for tests,
 * development and single-process use. All stores share one `MemoryState`, so an operation that
 * spans stores (a refresh-token reuse ending its session, a revocation check reading the session
 * index) is one synchronous step.
 */
import { randomBytes } from 'node:crypto';
import { checkStores } from '../../core/checked/index.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { createIdCodec, type IdCodec, MIN_ID_TAG_SECRET_BYTES } from '../../core/ids.js';
import { resolveEventRetention } from '../../core/limits.js';
import type { GuideStores } from '../../core/ports.js';
import { MemoryActivityBuckets } from './activity-buckets.js';
import { MemoryHandoffs } from './handoffs.js';
import { MemoryStoreMaintenance } from './maintenance.js';
import { MemoryRateLimits } from './rate-limits.js';
import { MemoryRefreshFamilies } from './refresh-families.js';
import { MemoryRevocationChecker } from './revocation.js';
import { MemorySecurityEvents } from './security-events.js';
import { MemorySessionStore } from './session-store.js';
import { MemoryState } from './state.js';
import { MemoryTokenBlacklist } from './token-blacklist.js';
import { MemoryTrustedDevices } from './trusted-devices.js';

export { MemoryActivityBuckets } from './activity-buckets.js';
export { MemoryHandoffs } from './handoffs.js';
export { MemoryStoreMaintenance } from './maintenance.js';
export { MemoryRateLimits } from './rate-limits.js';
export { MemoryRefreshFamilies } from './refresh-families.js';
export { MemoryRevocationChecker } from './revocation.js';
export { MemorySecurityEvents } from './security-events.js';
export { MemorySessionStore } from './session-store.js';
export { MemoryState } from './state.js';
export { MemoryTokenBlacklist } from './token-blacklist.js';
export { MemoryTrustedDevices } from './trusted-devices.js';

// The defaults and enums live in core/limits.ts; these entry points keep exporting them.
export {
  DEFAULT_EVENT_LIMIT,
  DEFAULT_MAX_EVENTS_PER_USER,
  DEFAULT_SECURITY_EVENT_TTL_SECONDS,
  MAX_EVENT_LIMIT,
  REUSE_REASON,
} from '../../core/limits.js';

export interface MemoryStoresOptions {
  /** Where time comes from (default `systemClock`). Tests pass a `ManualClock`. */
  clock?: Clock;
  /**
   * Makes and reads generated ids. Default: sealed under a random secret of this process (the
   * memory backend is one process, so nothing else needs to read its ids).
   */
  ids?: IdCodec;
  /** Retention of security events, in seconds (default 90 days). */
  securityEventTtlSeconds?: number;
  /** Bound of each user's security event index (default 1000). */
  maxEventsPerUser?: number;
}

/**
 * Builds every store over one shared in-memory state, each behind its checked facade
 * (`core/checked/`): the classes below only store.
 *
 * @throws ConfigError (ERR_CONFIG) when `securityEventTtlSeconds` is not a finite number > 0 or
 *   `maxEventsPerUser` is not an integer ≥ 1.
 * @example
 * const clock = new ManualClock();
 * const stores = createMemoryStores({ clock });
 * await stores.tokenBlacklist.blacklistToken({ jti, ttlSeconds: 900, reason: 'logout' });
 */
export function createMemoryStores(options: MemoryStoresOptions = {}): GuideStores {
  const clock = options.clock ?? systemClock;
  const { eventRetentionMs, maxEventsPerUser } = resolveEventRetention(options);
  const ids = options.ids ?? createIdCodec(randomBytes(MIN_ID_TAG_SECRET_BYTES));
  const state = new MemoryState({
    clock,
    ids,
    eventRetentionMs,
    maxEventsPerUser,
  });
  return checkStores(
    {
      ids,
      tokenBlacklist: new MemoryTokenBlacklist(state),
      sessionStore: new MemorySessionStore(state),
      trustedDevices: new MemoryTrustedDevices(state),
      securityEvents: new MemorySecurityEvents(state),
      refreshFamilies: new MemoryRefreshFamilies(state),
      revocation: new MemoryRevocationChecker(state),
      maintenance: new MemoryStoreMaintenance(state),
      rateLimits: new MemoryRateLimits(state),
      handoffs: new MemoryHandoffs(state),
      activity: new MemoryActivityBuckets(),
    },
    clock,
  );
}
