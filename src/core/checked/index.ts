/**
 * The checked facades: one per port, each checking every argument (ids, TTLs, bounds, enums,
 * "in the future") once, before the backend sees it, and filling in the defaults. Both
 * `createMemoryStores` and `createRedisStores` return their stores through `checkStores`, so the
 * two backends refuse the same inputs with the same errors by construction; the backend classes
 * only store. See `context.ts` for why the checks stand here.
 */
import type { Clock } from '../clock.js';
import type { GuideStores } from '../ports.js';
import { CheckedActivityBuckets } from './activity-buckets.js';
import { CheckedHandoffs } from './handoffs.js';
import { CheckedRateLimits } from './rate-limits.js';
import { CheckedRefreshFamilies } from './refresh-families.js';
import { CheckedRevocationChecker } from './revocation.js';
import { CheckedSecurityEvents } from './security-events.js';
import { CheckedSessionStore } from './session-store.js';
import { CheckedTokenBlacklist } from './token-blacklist.js';
import { CheckedTrustedDevices } from './trusted-devices.js';

export type { CheckContext } from './context.js';
export {
  CheckedActivityBuckets,
  CheckedHandoffs,
  CheckedRateLimits,
  CheckedRefreshFamilies,
  CheckedRevocationChecker,
  CheckedSecurityEvents,
  CheckedSessionStore,
  CheckedTokenBlacklist,
  CheckedTrustedDevices,
};

/**
 * Wraps every port of a backend's raw stores in its checked facade. What has no facade (the id
 * codec; maintenance, which takes no input; a port added later) is passed through as it is.
 */
export function checkStores(raw: GuideStores, clock: Clock): GuideStores {
  const ctx = { ids: raw.ids, clock };
  return {
    ...raw,
    tokenBlacklist: new CheckedTokenBlacklist(raw.tokenBlacklist, ctx),
    sessionStore: new CheckedSessionStore(raw.sessionStore, ctx),
    trustedDevices: new CheckedTrustedDevices(raw.trustedDevices, ctx),
    securityEvents: new CheckedSecurityEvents(raw.securityEvents, ctx),
    refreshFamilies: new CheckedRefreshFamilies(raw.refreshFamilies, ctx),
    revocation: new CheckedRevocationChecker(raw.revocation, ctx),
    handoffs: new CheckedHandoffs(raw.handoffs),
    rateLimits: new CheckedRateLimits(raw.rateLimits),
    activity: new CheckedActivityBuckets(raw.activity),
  };
}
