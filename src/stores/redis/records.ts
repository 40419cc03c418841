/**
 * How records are stored: JSON with the ports' field names (readable in `redis-cli`; compactness
 * can come later behind this module). Readers are defensive: a value that does not parse into the
 * expected shape is treated as absent, never passed on half-read.
 */
import type { BlacklistEntry, SecurityEvent, Session, TrustedDevice } from '../../core/types.js';

function parseObject(json: string | null): Record<string, unknown> | null {
  if (json === null) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** The session record: exactly the `Session` fields. */
export function encodeSession(session: Session): string {
  const s: Session = {
    sessionId: session.sessionId,
    userId: session.userId,
    deviceId: session.deviceId,
    deviceFingerprint: session.deviceFingerprint,
    ipAddress: session.ipAddress,
    userAgent: session.userAgent,
    createdAt: session.createdAt,
    lastActivity: session.lastActivity,
    lastEndpoint: session.lastEndpoint,
    expiresAt: session.expiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    mfaVerified: session.mfaVerified,
  };
  return JSON.stringify(s);
}

export function decodeSession(json: string | null): Session | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isString(o.sessionId) ||
    !isString(o.userId) ||
    !isStringOrNull(o.deviceId) ||
    !isNumber(o.createdAt) ||
    !isNumber(o.expiresAt) ||
    !isNumber(o.absoluteExpiresAt)
  ) {
    return null;
  }
  return o as unknown as Session;
}

/** Newest first by `createdAt`, then by id so equal timestamps have a stable order (as in memory). */
export function byCreatedAtDesc(a: Session, b: Session): number {
  return b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0);
}

/** The blacklist record: the entry without its jti (the jti is in the key). */
export function encodeBlacklistEntry(entry: BlacklistEntry): string {
  return JSON.stringify({
    userId: entry.userId,
    reason: entry.reason,
    revokedAt: entry.revokedAt,
    expiresAt: entry.expiresAt,
  });
}

export function decodeBlacklistEntry(jti: string, json: string | null): BlacklistEntry | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isStringOrNull(o.userId) ||
    !isString(o.reason) ||
    !isNumber(o.revokedAt) ||
    !isNumber(o.expiresAt)
  ) {
    return null;
  }
  return { jti, userId: o.userId, reason: o.reason, revokedAt: o.revokedAt, expiresAt: o.expiresAt };
}

export function encodeTrustedDevice(device: TrustedDevice): string {
  const d: TrustedDevice = {
    deviceId: device.deviceId,
    userId: device.userId,
    fingerprintHash: device.fingerprintHash,
    deviceName: device.deviceName,
    deviceType: device.deviceType,
    trustedAt: device.trustedAt,
    expiresAt: device.expiresAt,
  };
  return JSON.stringify(d);
}

export function decodeTrustedDevice(json: string | null): TrustedDevice | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isString(o.deviceId) ||
    !isString(o.userId) ||
    !isNumber(o.trustedAt) ||
    !isNumber(o.expiresAt)
  ) {
    return null;
  }
  return o as unknown as TrustedDevice;
}

/** Most recently trusted first, then by id (as in memory). */
export function byTrustedAtDesc(a: TrustedDevice, b: TrustedDevice): number {
  return b.trustedAt - a.trustedAt || (a.deviceId < b.deviceId ? 1 : a.deviceId > b.deviceId ? -1 : 0);
}

/**
 * The event record: the `SecurityEvent` fields plus `expiresAt` (ms), the end of its retention
 * counted from when it was recorded. Redis expires the key at the same moment; the field lets a
 * reader with an injected clock agree.
 */
export function encodeSecurityEvent(event: SecurityEvent, expiresAt: number): string {
  return JSON.stringify({
    eventId: event.eventId,
    type: event.type,
    userId: event.userId,
    severity: event.severity,
    timestamp: event.timestamp,
    sessionId: event.sessionId,
    ipAddress: event.ipAddress,
    userAgent: event.userAgent,
    details: event.details,
    expiresAt,
  });
}

export function decodeSecurityEvent(json: string | null): { event: SecurityEvent; expiresAt: number } | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isString(o.eventId) ||
    !isString(o.type) ||
    !isNumber(o.timestamp) ||
    !isNumber(o.expiresAt) ||
    typeof o.details !== 'object' ||
    o.details === null
  ) {
    return null;
  }
  const { expiresAt, ...event } = o;
  return { event: event as unknown as SecurityEvent, expiresAt: expiresAt as number };
}

/** The watermark record: `{"beforeMs": ms, "expiresAt": ms}` (written by `watermark_raise.lua`). */
export function decodeWatermark(json: string | null, now: number): number | null {
  const o = parseObject(json);
  if (o === null || !isNumber(o.beforeMs) || !isNumber(o.expiresAt) || o.expiresAt <= now) return null;
  return o.beforeMs;
}
