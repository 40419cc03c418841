/**
 * Defaults, bounds and enumerations of the ports, written once: the checked facades
 * (`core/checked/`), both backends, the services and the configuration loader read them from here.
 */
import { ConfigError } from './errors.js';
import type { SessionLimitPolicy } from './ports.js';
import type { SecuritySeverity } from './types.js';

/** The severities a security event may carry; `info` when none is given. */
export const SEVERITIES: readonly SecuritySeverity[] = Object.freeze(['info', 'warning', 'critical']);
export const DEFAULT_SEVERITY: SecuritySeverity = 'info';

/** What `SessionStore.createSession` does at the cap; `evict-oldest` when none is given. */
export const SESSION_LIMIT_POLICIES: readonly SessionLimitPolicy[] = Object.freeze(['evict-oldest', 'deny']);
export const DEFAULT_SESSION_LIMIT_POLICY: SessionLimitPolicy = 'evict-oldest';

/** The reason recorded on a family revoked because one of its tokens was presented twice. */
export const REUSE_REASON = 'token_reuse_detected';

/** `SecurityEventStore.listUserEvents`: events returned when no `limit` is given. */
export const DEFAULT_EVENT_LIMIT = 50;
/** `SecurityEventStore.listUserEvents`: a larger `limit` returns at most this many. */
export const MAX_EVENT_LIMIT = 1000;

/** Retention of security events when none is configured: 90 days, in seconds. */
export const DEFAULT_SECURITY_EVENT_TTL_SECONDS = 90 * 24 * 60 * 60;
/** Bound of each user's security event index when none is configured. */
export const DEFAULT_MAX_EVENTS_PER_USER = 1000;

/** An inclusive integer range with its default. */
export interface IntegerBound {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/**
 * Live sessions per user (`MAX_SESSIONS_PER_USER`, `maxSessionsPerUser`): one range for the
 * configuration and the session manager. The cap check reads every live session of the user in
 * one script, so the range stays where that is cheap.
 */
export const MAX_SESSIONS_PER_USER: IntegerBound = Object.freeze({ min: 1, max: 1000, default: 5 });
/** Trusted devices per user (`MAX_TRUSTED_DEVICES_PER_USER`, `maxTrustedDevicesPerUser`). */
export const MAX_TRUSTED_DEVICES_PER_USER: IntegerBound = Object.freeze({ min: 1, max: 1000, default: 20 });
/** Idle timeout of a session, minutes (`SESSION_IDLE_TIMEOUT_MINUTES`, `sessionTimeoutMinutes`). */
export const SESSION_IDLE_TIMEOUT_MINUTES: IntegerBound = Object.freeze({ min: 1, max: 10_080, default: 30 });
/**
 * Absolute lifetime of a session, minutes (`SESSION_ABSOLUTE_TIMEOUT_MINUTES`,
 * `absoluteLifetimeMinutes`); never shorter than the idle timeout.
 */
export const SESSION_ABSOLUTE_TIMEOUT_MINUTES: IntegerBound = Object.freeze({
  min: 1,
  max: 525_600,
  default: 720,
});
/** Access token lifetime, seconds (`ACCESS_TOKEN_TTL_SECONDS`, `accessTokenTtlSeconds`). */
export const ACCESS_TOKEN_TTL_SECONDS: IntegerBound = Object.freeze({ min: 30, max: 86_400, default: 900 });
/** Refresh token lifetime, seconds (`REFRESH_TOKEN_TTL_SECONDS`, `refreshTokenTtlSeconds`). */
export const REFRESH_TOKEN_TTL_SECONDS: IntegerBound = Object.freeze({
  min: 60,
  max: 31_536_000,
  default: 2_592_000,
});
/** Grace window of a rotated refresh token, seconds (`REFRESH_GRACE_SECONDS`, `refreshGraceSeconds`). */
export const REFRESH_GRACE_SECONDS: IntegerBound = Object.freeze({ min: 0, max: 300, default: 10 });
/** Clock tolerance of token checks, seconds (`JWT_CLOCK_TOLERANCE_SECONDS`, `clockToleranceSeconds`). */
export const JWT_CLOCK_TOLERANCE_SECONDS: IntegerBound = Object.freeze({ min: 0, max: 300, default: 5 });

/** A TTL in seconds as whole milliseconds, never 0 (a Redis `PX 0` is an error). */
export function ttlMs(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds * 1000));
}

/** What the event stores of both backends are built with, checked. */
export interface EventRetention {
  eventRetentionMs: number;
  maxEventsPerUser: number;
}

/**
 * The security-event options of `createMemoryStores` / `createRedisStores`, defaults applied.
 * @throws ConfigError when `securityEventTtlSeconds` is not a finite number > 0 or
 *   `maxEventsPerUser` is not an integer ≥ 1.
 */
export function resolveEventRetention(options: {
  securityEventTtlSeconds?: number | undefined;
  maxEventsPerUser?: number | undefined;
}): EventRetention {
  const ttlSeconds = options.securityEventTtlSeconds ?? DEFAULT_SECURITY_EVENT_TTL_SECONDS;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new ConfigError('securityEventTtlSeconds', 'must be a finite number of seconds greater than 0');
  }
  const maxEventsPerUser = options.maxEventsPerUser ?? DEFAULT_MAX_EVENTS_PER_USER;
  if (!Number.isSafeInteger(maxEventsPerUser) || maxEventsPerUser < 1) {
    throw new ConfigError('maxEventsPerUser', 'must be an integer of at least 1');
  }
  return { eventRetentionMs: Math.ceil(ttlSeconds * 1000), maxEventsPerUser };
}

/**
 * An integer option within `bound`, its default when absent.
 * @throws ConfigError naming `path` when the value is not an integer within the bound.
 */
export function boundedInteger(path: string, value: number | undefined, bound: IntegerBound): number {
  const v = value ?? bound.default;
  if (!Number.isInteger(v) || v < bound.min || v > bound.max) {
    throw new ConfigError(path, `must be an integer from ${bound.min} to ${bound.max}`);
  }
  return v;
}
