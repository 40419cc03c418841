/**
 * The session manager (the guide's RedisSessionManager): idle and absolute timeouts, the per-user
 * cap, id rotation on privilege change, trusted devices and the security events around them.
 * It orchestrates the store ports and holds no Redis code.
 */
import { type Clock, systemClock } from '../core/clock.js';
import {
  ConfigError,
  InvalidArgumentError,
  MfaRequiredError,
  isStoreFailure,
  SessionNotFoundError,
} from '../core/errors.js';
import { assertUserId, assertId, fingerprintDigest, sha256, trustedDeviceId } from '../core/ids.js';
import type { SessionLimitPolicy, Stores } from '../core/ports.js';
import {
  boundedInteger,
  DEFAULT_SESSION_LIMIT_POLICY,
  MAX_SESSIONS_PER_USER,
  MAX_TRUSTED_DEVICES_PER_USER,
  SESSION_ABSOLUTE_TIMEOUT_MINUTES,
  SESSION_IDLE_TIMEOUT_MINUTES,
  SESSION_LIMIT_POLICIES,
} from '../core/limits.js';
import { KnownIds } from '../core/checked/context.js';
import { assertObject, assertReason } from '../core/validate.js';
import { isSessionExpired, type Session, type TrustedDevice, updateSessionActivity } from '../core/types.js';
import type {
  CreateSessionInput,
  SessionManager,
  SessionManagerOptions,
  UnverifiedSession,
} from './types.js';

const MAX_TEXT = 1024;

function boundedText(name: string, value: unknown, max = MAX_TEXT): string {
  if (typeof value !== 'string' || value.length > max || value.includes('\0')) {
    throw new InvalidArgumentError(name, `must be a string of at most ${max} characters`);
  }
  return value;
}

/**
 * Creates the session manager.
 * @throws ConfigError for non-positive timeouts, a cap below 1 or an unknown policy.
 */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  if (!options || typeof options !== 'object' || !options.stores)
    throw new ConfigError('stores', 'are required');
  const stores: Stores = options.stores;
  const clock: Clock = options.clock ?? systemClock;
  const idleMs =
    boundedInteger('sessionTimeoutMinutes', options.sessionTimeoutMinutes, SESSION_IDLE_TIMEOUT_MINUTES) *
    60_000;
  const absoluteMs =
    boundedInteger(
      'absoluteLifetimeMinutes',
      options.absoluteLifetimeMinutes,
      SESSION_ABSOLUTE_TIMEOUT_MINUTES,
    ) * 60_000;
  if (absoluteMs < idleMs)
    throw new ConfigError('absoluteLifetimeMinutes', 'must not be shorter than the idle timeout');
  const maxSessions = boundedInteger('maxSessionsPerUser', options.maxSessionsPerUser, MAX_SESSIONS_PER_USER);
  const policy: SessionLimitPolicy = options.sessionLimitPolicy ?? DEFAULT_SESSION_LIMIT_POLICY;
  if (!SESSION_LIMIT_POLICIES.includes(policy)) {
    throw new ConfigError('sessionLimitPolicy', `must be one of ${SESSION_LIMIT_POLICIES.join(', ')}`);
  }
  const maxDevices = boundedInteger(
    'maxTrustedDevicesPerUser',
    options.maxTrustedDevicesPerUser,
    MAX_TRUSTED_DEVICES_PER_USER,
  );
  const writeInterval = options.activityWriteIntervalSeconds ?? 15;
  if (typeof writeInterval !== 'number' || !Number.isFinite(writeInterval) || writeInterval < 0) {
    throw new ConfigError('activityWriteIntervalSeconds', 'must be a number of seconds, 0 or more');
  }
  const activityWriteMs = Math.min(writeInterval * 1000, idleMs / 10);

  function assertSessionId(sessionId: unknown): asserts sessionId is string {
    stores.ids.parse('sessionId', sessionId);
  }
  /** Session ids `validateSession` has seen parse (the warm path: a Set lookup, not a parse). */
  const knownSessionIds: KnownIds = new KnownIds(stores.ids);
  /** The endpoint `validateSession` last accepted (a gateway sends the same one again and again). */
  let lastEndpoint: string | undefined;

  async function createSession(input: CreateSessionInput): Promise<Session> {
    if (!input || typeof input !== 'object') throw new InvalidArgumentError('input', 'is required');
    assertUserId(input.userId);
    const ipAddress = boundedText('ipAddress', input.ipAddress, 64);
    const userAgent = boundedText('userAgent', input.userAgent);
    // Only the digest is kept: the raw fingerprint can skip MFA on a trusted device.
    const fingerprint =
      input.deviceFingerprint === undefined || input.deviceFingerprint === null
        ? null
        : fingerprintDigest(boundedText('deviceFingerprint', input.deviceFingerprint, 512));
    let deviceId: string | null = null;
    if (input.deviceId !== undefined && input.deviceId !== null) {
      assertId('deviceId', input.deviceId);
      deviceId = input.deviceId;
    } else if (fingerprint) {
      deviceId = trustedDeviceId(input.userId, fingerprint);
    }
    const now = clock.now();
    const session: Session = {
      sessionId: stores.ids.newId(input.userId),
      userId: input.userId,
      deviceId,
      deviceFingerprint: fingerprint,
      ipAddress,
      userAgent,
      createdAt: now,
      lastActivity: now,
      lastEndpoint: null,
      expiresAt: Math.min(now + idleMs, now + absoluteMs),
      absoluteExpiresAt: now + absoluteMs,
      mfaVerified: input.mfaVerified === true,
    };
    // One store call: the session and its events (`session_created`, and `new_device` when the
    // device is neither trusted by the user nor on a live session of theirs just before this one),
    // decided and written in the create's own steps.
    const context = { sessionId: session.sessionId, ipAddress, userAgent };
    const { evicted } = await stores.sessionStore.createSession(session, {
      maxSessions,
      onLimit: policy,
      events: {
        created: {
          type: 'session_created',
          userId: session.userId,
          ...context,
          details: { deviceId, mfaVerified: session.mfaVerified },
        },
        ...(deviceId === null
          ? {}
          : {
              newDevice: {
                type: 'new_device',
                userId: session.userId,
                severity: 'warning',
                ...context,
                details: { deviceId },
              },
            }),
      },
    });
    // Evictions are rare (a user at the cap): their events follow, each one atomic, sent together.
    if (evicted.length > 0)
      await Promise.all(
        evicted.map((id) =>
          stores.securityEvents.record({
            type: 'session_limit_eviction',
            userId: session.userId,
            severity: 'warning',
            sessionId: id,
            details: { limit: maxSessions, newSessionId: session.sessionId },
          }),
        ),
      );
    return session;
  }

  async function validateSession(
    sessionId: string,
    opts: { endpoint?: string; failOpen?: boolean } = {},
  ): Promise<Session | UnverifiedSession | null> {
    // Every introspection with recordActivity comes here with the same few ids and endpoints: an id
    // that parsed once is a Set lookup (not a parse), an endpoint equal to the last accepted one is
    // not checked again.
    knownSessionIds.assert('sessionId', sessionId);
    assertObject('opts', opts);
    let endpoint = opts.endpoint;
    if (endpoint !== undefined && endpoint !== lastEndpoint) {
      endpoint = lastEndpoint = boundedText('endpoint', endpoint, 512);
    }
    try {
      const session = await stores.sessionStore.getSession(sessionId);
      const now = clock.now();
      if (!session || isSessionExpired(session, now)) return null;
      // Activity written less than the interval ago: nothing to write, whatever the endpoint (the
      // read is the check). The idle deadline then lags the last use by less than the interval,
      // and the endpoint of the use that makes the next write (the latest) is recorded with it.
      if (now - session.lastActivity < activityWriteMs) return session;
      const touched = updateSessionActivity(session, now, endpoint, idleMs);
      // updateSession writes only if the session is still live: a terminate racing this
      // validation wins, and the session is reported as gone.
      // Conditional on what was read: of instances racing on this session, one writes.
      const ok = await stores.sessionStore.updateSession(touched, {
        extendTtl: true,
        ...(activityWriteMs > 0 ? { ifLastActivityAtOrBefore: now - activityWriteMs } : {}),
      });
      return ok ? touched : null;
    } catch (err) {
      if (opts.failOpen && isStoreFailure(err)) {
        return { sessionId, unverified: true };
      }
      throw err;
    }
  }

  /** One `trusted_device_evicted` event per trust the per-user bound ended. */
  async function recordEvictions(device: TrustedDevice, evicted: readonly string[]): Promise<void> {
    for (const deviceId of evicted) {
      await stores.securityEvents.record({
        type: 'trusted_device_evicted',
        userId: device.userId,
        severity: 'warning',
        details: { deviceId, limit: maxDevices, newDeviceId: device.deviceId },
      });
    }
  }

  /** The name, type and duration of a trust, checked (both ways of trusting a device take them). */
  function trustTerms(input: { deviceName: string; deviceType: string; durationDays?: number }) {
    const deviceName = boundedText('deviceName', input.deviceName, 128);
    const deviceType = boundedText('deviceType', input.deviceType, 64);
    const days = input.durationDays ?? 30;
    if (!Number.isInteger(days) || days < 1 || days > 365) {
      throw new InvalidArgumentError('durationDays', 'must be an integer from 1 to 365');
    }
    return { deviceName, deviceType, days };
  }

  /**
   * Stores the trust (bounded per user), then records `device_trusted` (with `context`'s session,
   * address and extra details) and one `trusted_device_evicted` per trust the bound ended.
   */
  async function saveTrust(
    who: Pick<TrustedDevice, 'deviceId' | 'userId' | 'fingerprintHash'>,
    terms: { deviceName: string; deviceType: string; days: number },
    context: {
      event?: { sessionId: string; ipAddress: string; userAgent: string };
      details?: Record<string, unknown>;
    },
  ): Promise<TrustedDevice> {
    const { deviceName, deviceType, days } = terms;
    const now = clock.now();
    const device: TrustedDevice = {
      ...who,
      deviceName,
      deviceType,
      trustedAt: now,
      expiresAt: now + days * 86_400_000,
    };
    const { device: saved, evicted } = await stores.trustedDevices.trust(device, { maxDevices });
    await stores.securityEvents.record({
      type: 'device_trusted',
      userId: device.userId,
      ...context.event,
      details: { deviceId: device.deviceId, deviceName, deviceType, durationDays: days, ...context.details },
    });
    await recordEvictions(device, evicted);
    return saved;
  }

  async function terminateSession(sessionId: string, reason: string): Promise<boolean> {
    assertSessionId(sessionId);
    // Every argument is checked before anything is ended: a refused call changes nothing.
    assertReason(reason);
    const ended = await stores.sessionStore.deleteSession(sessionId);
    if (!ended) return false;
    await stores.securityEvents.record({
      type: 'session_terminated',
      userId: ended.userId,
      sessionId,
      details: { reason },
    });
    return true;
  }

  return {
    createSession,
    validateSession,
    async recordSessionUse(session, opts = {}) {
      assertObject('session', session);
      assertSessionId(session.sessionId);
      assertObject('opts', opts);
      const endpoint = opts.endpoint === undefined ? undefined : boundedText('endpoint', opts.endpoint, 512);
      const now = clock.now();
      if (isSessionExpired(session, now)) return null;
      // Nothing due (most uses): the caller's atomic step found the session live; no I/O.
      if (now - session.lastActivity < activityWriteMs) return session;
      // A write is due: read and write as validateSession does. What is written is the record the
      // store holds, never the caller's copy (which could differ in more than its activity).
      const live = await validateSession(session.sessionId, endpoint === undefined ? {} : { endpoint });
      return live !== null && 'unverified' in live ? null : live;
    },
    async getSession(sessionId) {
      assertSessionId(sessionId);
      const s = await stores.sessionStore.getSession(sessionId);
      return s && !isSessionExpired(s, clock.now()) ? s : null;
    },
    async rotateSession(sessionId) {
      const { tag } = stores.ids.parse('sessionId', sessionId);
      const session = await stores.sessionStore.getSession(sessionId);
      if (!session) throw new SessionNotFoundError();
      // An old-form id moves to a sealed one; both name the same slot (the plain tag).
      const newId = stores.ids.newId(session.userId);
      if (stores.ids.parse('sessionId', newId).tag !== tag) throw new SessionNotFoundError();
      const moved = await stores.sessionStore.rotateSessionId(sessionId, newId);
      if (!moved) throw new SessionNotFoundError();
      await stores.securityEvents.record({
        type: 'session_rotated',
        userId: moved.userId,
        sessionId: newId,
        details: { previousSessionHash: sha256(sessionId).slice(0, 16) },
      });
      return moved;
    },
    async listUserSessions(userId) {
      assertUserId(userId);
      return stores.sessionStore.getUserSessions(userId, { activeOnly: true });
    },
    terminateSession,
    async terminateUserSessions(input) {
      assertObject('input', input);
      assertUserId(input.userId);
      if (input.exceptSessionId !== undefined) assertSessionId(input.exceptSessionId);
      const reason = input.reason ?? 'user_request';
      assertReason(reason);
      const ended = await stores.sessionStore.deleteUserSessions(input.userId, {
        exceptSessionId: input.exceptSessionId,
      });
      // A call that ended nothing changed nothing: no event (a user repeating logout-others
      // must not grow the audit trail).
      if (ended.length === 0) return 0;
      await stores.securityEvents.record({
        type: 'all_sessions_terminated',
        userId: input.userId,
        severity: 'warning',
        sessionId: input.exceptSessionId ?? null,
        details: {
          count: ended.length,
          reason,
          keptCurrent: !!input.exceptSessionId,
        },
      });
      return ended.length;
    },
    async trustDevice(input) {
      assertObject('input', input);
      assertUserId(input.userId);
      const fingerprint = boundedText('deviceFingerprint', input.deviceFingerprint, 512);
      if (fingerprint === '') throw new InvalidArgumentError('deviceFingerprint', 'must not be empty');
      const terms = trustTerms(input);
      return saveTrust(
        {
          deviceId: trustedDeviceId(input.userId, fingerprintDigest(fingerprint)),
          userId: input.userId,
          fingerprintHash: sha256(fingerprint),
        },
        terms,
        {},
      );
    },
    async trustSessionDevice(input) {
      assertObject('input', input);
      assertSessionId(input.sessionId);
      const terms = trustTerms(input);
      const ipAddress = boundedText('ipAddress', input.ipAddress, 64);
      const userAgent = boundedText('userAgent', input.userAgent);
      const session = await stores.sessionStore.getSession(input.sessionId);
      if (!session || isSessionExpired(session, clock.now())) throw new SessionNotFoundError();
      if (!session.mfaVerified) throw new MfaRequiredError();
      if (session.deviceId === null) {
        throw new InvalidArgumentError('session', 'was created without a device fingerprint or device id');
      }
      if (
        input.deviceFingerprint !== undefined &&
        fingerprintDigest(boundedText('deviceFingerprint', input.deviceFingerprint, 512)) !==
          session.deviceFingerprint
      ) {
        throw new InvalidArgumentError('deviceFingerprint', "is not this session's device");
      }
      return saveTrust(
        {
          deviceId: session.deviceId,
          userId: session.userId,
          // The session keeps the fingerprint's SHA-256 in hex; a trusted device its base64url form.
          fingerprintHash:
            session.deviceFingerprint === null
              ? sha256(`device-id:${session.deviceId}`)
              : Buffer.from(session.deviceFingerprint, 'hex').toString('base64url'),
        },
        terms,
        {
          event: { sessionId: session.sessionId, ipAddress, userAgent },
          details: { mfaVerified: true, sessionIpAddress: session.ipAddress },
        },
      );
    },
    async markSessionMfaVerified(sessionId) {
      assertSessionId(sessionId);
      const session = await stores.sessionStore.getSession(sessionId);
      if (!session || isSessionExpired(session, clock.now())) throw new SessionNotFoundError();
      if (session.mfaVerified) return session;
      const verified: Session = { ...session, mfaVerified: true };
      // No TTL change: the session ends when it would have. Never resurrects an ended one.
      if (!(await stores.sessionStore.updateSession(verified))) throw new SessionNotFoundError();
      await stores.securityEvents.record({
        type: 'mfa_verified',
        userId: session.userId,
        sessionId,
        details: { stepUp: true },
      });
      return verified;
    },
    async isDeviceTrusted(userId, deviceFingerprint) {
      assertUserId(userId);
      const fp = boundedText('deviceFingerprint', deviceFingerprint, 512);
      return (
        (await stores.trustedDevices.get(userId, trustedDeviceId(userId, fingerprintDigest(fp)))) !== null
      );
    },
    async untrustDevice(userId, deviceId) {
      assertUserId(userId);
      assertId('deviceId', deviceId);
      const removed = await stores.trustedDevices.revoke(userId, deviceId);
      if (removed) {
        await stores.securityEvents.record({ type: 'device_untrusted', userId, details: { deviceId } });
      }
      return removed;
    },
    async listTrustedDevices(userId) {
      assertUserId(userId);
      return stores.trustedDevices.listUserDevices(userId);
    },
    async listSecurityEvents(userId, opts = {}) {
      assertObject('opts', opts);
      assertUserId(userId);
      return stores.securityEvents.listUserEvents(userId, opts);
    },
    async cleanupExpiredSessions(onProgress) {
      return stores.maintenance.cleanup(onProgress);
    },
  };
}
