/**
 * Domain types: plain data, JSON-safe. Every `...At` field is milliseconds since the Unix epoch.
 */
import { type IdCodec, newUnscopedId } from './ids.js';
import { DEFAULT_SEVERITY } from './limits.js';

/** A user's session (the guide's `Session`). */
export interface Session {
  /** `<sealed user tag>.<128 random bits>`; see `IdCodec`. An identifier, not a bearer secret. */
  sessionId: string;
  userId: string;
  /** Caller-supplied device id, or one derived from the fingerprint; `null` when neither was given. */
  deviceId: string | null;
  /**
   * The device fingerprint the client sent, as `fingerprintDigest` (SHA-256, hex) when the session
   * manager made the session: the raw value can skip MFA on a trusted device, so it is not kept.
   */
  deviceFingerprint: string | null;
  ipAddress: string;
  userAgent: string;
  createdAt: number;
  lastActivity: number;
  lastEndpoint: string | null;
  /** When the session ends if nothing happens: min(lastActivity + idle timeout, absoluteExpiresAt). */
  expiresAt: number;
  /** Hard end of the session, never extended (OWASP absolute timeout). */
  absoluteExpiresAt: number;
  mfaVerified: boolean;
}

/** True when the session has expired at `now` (ms). */
export function isSessionExpired(
  session: Pick<Session, 'expiresAt' | 'absoluteExpiresAt'>,
  now: number,
): boolean {
  return now >= session.expiresAt || now >= session.absoluteExpiresAt;
}

/**
 * Returns a copy of the session with its activity recorded at `now`: `lastActivity`,
 * `lastEndpoint`, and (when `idleTimeoutMs` is given) a sliding `expiresAt` that never passes
 * `absoluteExpiresAt`.
 */
export function updateSessionActivity(
  session: Session,
  now: number,
  endpoint?: string | null,
  idleTimeoutMs?: number,
): Session {
  const expiresAt =
    idleTimeoutMs === undefined
      ? session.expiresAt
      : Math.min(now + idleTimeoutMs, session.absoluteExpiresAt);
  return { ...session, lastActivity: now, lastEndpoint: endpoint ?? session.lastEndpoint, expiresAt };
}

/** What the blacklist keeps about a revoked access token. */
export interface BlacklistEntry {
  jti: string;
  userId: string | null;
  reason: string;
  revokedAt: number;
  expiresAt: number;
}

/** A device the user chose to trust (skips MFA on it until `expiresAt`). */
export interface TrustedDevice {
  /** Derived from the user id and the fingerprint; stable for the same pair. */
  deviceId: string;
  userId: string;
  /** SHA-256 of the fingerprint: the raw fingerprint is not kept. */
  fingerprintHash: string;
  deviceName: string;
  deviceType: string;
  trustedAt: number;
  expiresAt: number;
}

export const SECURITY_EVENT_TYPES = [
  'session_created',
  'new_device',
  'session_terminated',
  'all_sessions_terminated',
  'session_limit_eviction',
  'session_rotated',
  'token_revoked',
  'all_tokens_revoked',
  'token_reuse_detected',
  'token_family_revoked',
  'device_trusted',
  'device_untrusted',
  'mfa_verified',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number] | (string & {});

export type SecuritySeverity = 'info' | 'warning' | 'critical';

/** An entry of the security audit trail. Never carries a token or secret. */
export interface SecurityEvent {
  eventId: string;
  type: SecurityEventType;
  userId: string | null;
  severity: SecuritySeverity;
  timestamp: number;
  sessionId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  /** Free-form context (ids, counts, reasons). Values must not be secrets. */
  details: Record<string, string | number | boolean | null>;
}

export type SecurityEventInput = Omit<
  SecurityEvent,
  'eventId' | 'timestamp' | 'severity' | 'sessionId' | 'ipAddress' | 'userAgent' | 'details'
> &
  Partial<
    Pick<SecurityEvent, 'severity' | 'sessionId' | 'ipAddress' | 'userAgent' | 'details' | 'timestamp'>
  >;

/**
 * The event a store records for `input`, every absent field filled in (the defaults of
 * `SecurityEventStore.record`): an event id in the user's slot (an id of its own without a user),
 * `timestamp` now, `severity` info, `null` session, address and agent, `{}` details (copied).
 */
export function newSecurityEvent(input: SecurityEventInput, ids: IdCodec, now: number): SecurityEvent {
  const userId = input.userId ?? null;
  return {
    eventId: userId === null ? newUnscopedId() : ids.newId(userId),
    type: input.type,
    userId,
    severity: input.severity ?? DEFAULT_SEVERITY,
    timestamp: input.timestamp ?? now,
    sessionId: input.sessionId ?? null,
    ipAddress: input.ipAddress ?? null,
    userAgent: input.userAgent ?? null,
    details: { ...(input.details ?? {}) },
  };
}

/** State of a refresh-token family (one login's chain of rotated refresh tokens). */
export interface RefreshFamily {
  familyId: string;
  userId: string;
  sessionId: string;
  /** Number of rotations so far (0 = the first refresh token). */
  generation: number;
  createdAt: number;
  expiresAt: number;
  revoked: boolean;
  revokedReason: string | null;
  /**
   * Claims copied into every access token minted by a refresh (JSON: email, roles, permissions).
   * Not secret; `null` when none.
   */
  claims: string | null;
  /**
   * The user's generation when the family was created (docs/data-model.md, "User generation"):
   * a revoke-all that raises the generation past it revokes the family and every token minted
   * from it. `null` for a family written before generations existed (judged by the legacy time
   * watermark against `createdAt`).
   */
  userGeneration: number | null;
}

/** A signing/verification key. Algorithms are pinned per key: a token's `alg` must match its key's. */
export type JwtKeyConfig =
  | {
      kid: string;
      alg: 'HS256';
      /** At least 32 bytes (a shorter secret is a `ConfigError`). */
      secret: string | Uint8Array;
    }
  | {
      kid: string;
      alg: 'EdDSA' | 'ES256';
      /** PEM (PKCS#8) private key; absent for a verify-only (retired or external) key. */
      privateKeyPem?: string;
      /** PEM (SPKI) public key; derived from the private key when absent. */
      publicKeyPem?: string;
    };
