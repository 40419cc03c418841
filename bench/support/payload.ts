/**
 * The realistic session payload every session scenario uses, on our side and the peers': a real
 * 110-character desktop Chrome user agent, a 64-hex-character browser fingerprint, an IPv4
 * address, timestamps and the MFA flag.
 */
import { randomBytes } from 'node:crypto';

/** A real desktop Chrome user agent: 110 characters, like most of what browsers send. */
export const USER_AGENT =
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36';

export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 12 * 60 * 60_000;

/** A browser fingerprint as a client sends it: 64 hex characters. */
export function fingerprint(): string {
  return randomBytes(32).toString('hex');
}

/** An address from TEST-NET-3 (RFC 5737). */
export function ipAddress(i: number): string {
  return `203.0.113.${1 + (i % 254)}`;
}

/** An express-session id as express-session makes them (uid-safe, 24 bytes → 32 characters). */
export function expressSessionId(): string {
  return randomBytes(24).toString('base64url');
}

/** What express-session + connect-redis would store for the same login: the cookie and our fields. */
export interface ExpressSessionData {
  cookie: {
    originalMaxAge: number;
    expires: string | Date;
    secure: boolean;
    httpOnly: boolean;
    path: string;
    sameSite: 'strict';
  };
  userId: string;
  deviceFingerprint: string;
  ipAddress: string;
  userAgent: string;
  createdAt: number;
  lastActivity: number;
  absoluteExpiresAt: number;
  mfaVerified: boolean;
}

export function expressSession(userId: string, i: number, now = Date.now()): ExpressSessionData {
  return {
    cookie: {
      originalMaxAge: IDLE_MS,
      expires: new Date(now + IDLE_MS).toISOString(),
      secure: true,
      httpOnly: true,
      path: '/',
      sameSite: 'strict',
    },
    userId,
    deviceFingerprint: fingerprint(),
    ipAddress: ipAddress(i),
    userAgent: USER_AGENT,
    createdAt: now,
    lastActivity: now,
    absoluteExpiresAt: now + ABSOLUTE_MS,
    mfaVerified: true,
  };
}

/** The same login as the input of our `createSession`. */
export function sessionInput(userId: string, i: number) {
  return {
    userId,
    ipAddress: ipAddress(i),
    userAgent: USER_AGENT,
    deviceFingerprint: fingerprint(),
    mfaVerified: true,
  };
}
