/** Realistic test data. Times default to `now`, which tests take from their store's clock. */
import { randomBytes } from 'node:crypto';
import { newUserScopedId, randomToken, sha256, trustedDeviceId } from '../../src/core/ids.js';
import type { Session, TrustedDevice } from '../../src/core/types.js';

/** A real desktop Chrome user agent: 110 characters, like most of what browsers send. */
export const USER_AGENT =
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** A fresh caller-supplied user id (valid for `assertId`). */
export function uniqueUserId(): string {
  return `user-${randomToken(9)}`;
}

/** A fresh caller-supplied device id. */
export function uniqueDeviceId(): string {
  return `device-${randomToken(9)}`;
}

/** A fresh jti. */
export function uniqueJti(): string {
  return `jti-${randomToken(12)}`;
}

/** A browser fingerprint as a client would send it: 64 hex characters. */
export function makeFingerprint(): string {
  return randomBytes(32).toString('hex');
}

/** An address from TEST-NET-3 (RFC 5737). */
export function makeIp(): string {
  return `203.0.113.${1 + (randomBytes(1)[0]! % 254)}`;
}

/**
 * A session of `userId` created at `now`: 30 min idle timeout, 12 h absolute timeout, a device id,
 * a fingerprint, an IP address and a real user agent. `overrides` replace any field.
 */
export function makeSession(
  userId: string,
  overrides: Partial<Session> = {},
  now: number = Date.now(),
): Session {
  return {
    sessionId: newUserScopedId(userId),
    userId,
    deviceId: uniqueDeviceId(),
    deviceFingerprint: makeFingerprint(),
    ipAddress: makeIp(),
    userAgent: USER_AGENT,
    createdAt: now,
    lastActivity: now,
    lastEndpoint: null,
    expiresAt: now + 30 * MINUTE_MS,
    absoluteExpiresAt: now + 12 * HOUR_MS,
    mfaVerified: false,
    ...overrides,
  };
}

/** A device trusted at `now` for 30 days (`overrides` replace any field). */
export function makeTrustedDevice(
  userId: string,
  overrides: Partial<TrustedDevice> = {},
  now: number = Date.now(),
): TrustedDevice {
  const fingerprint = makeFingerprint();
  return {
    deviceId: trustedDeviceId(userId, fingerprint),
    userId,
    fingerprintHash: sha256(fingerprint),
    deviceName: 'Work laptop',
    deviceType: 'desktop',
    trustedAt: now,
    expiresAt: now + 30 * DAY_MS,
    ...overrides,
  };
}
