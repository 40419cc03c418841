/**
 * Public types of the services (JWT service and session manager). The services orchestrate the
 * store ports and hold no Redis code.
 */
import type { Clock } from '../core/clock.js';
import type { CleanupStats, SessionLimitPolicy, Stores } from '../core/ports.js';
import type { JwtKeyConfig, SecurityEvent, Session, TrustedDevice } from '../core/types.js';

/** Defined in core (config/ reads it too); re-exported here for existing importers. */
export type { JwtKeyConfig };

export interface JwtServiceOptions {
  stores: Stores;
  /**
   * Keys, the first one (or `activeKid`) signs. Keep retired keys here until their last token has
   * expired: they keep verifying (key rotation).
   */
  keys: readonly JwtKeyConfig[];
  /** The `kid` that signs new tokens. Default: the first key. */
  activeKid?: string;
  /** `iss` written and required. */
  issuer: string;
  /** `aud` written and required. */
  audience: string;
  /** Access token life: an integer from 30 to 86,400. Default 900 (15 min). */
  accessTokenTtlSeconds?: number;
  /** Refresh token (family) life: an integer from 60 to 31,536,000. Default 2,592,000 (30 days). */
  refreshTokenTtlSeconds?: number;
  /** Window in which the just-rotated refresh token returns the same child: 0 to 300. Default 10. */
  refreshGraceSeconds?: number;
  /**
   * Allowed clock skew between the instance that minted a token and the one verifying it, for
   * `exp`/`nbf`/`iat`. Default 5: a token minted by a clock that runs up to 5 s ahead verifies at
   * once, and a token is accepted up to 5 s past its `exp` (revocation entries are kept that much
   * longer, so a revoked token never verifies again in that window). An integer from 0 to 300.
   */
  clockToleranceSeconds?: number;
  /**
   * Access tokens whose signature and claims were checked, kept by their exact text so that the
   * next presentation of the same token skips the signature and parsing (the time claims and the
   * revocation are still checked on every call). A token that differs in any byte is checked in
   * full. Entries go in the order they came. Default 10 000; 0 turns it off.
   */
  verifiedTokenCacheSize?: number;
  clock?: Clock;
  /**
   * The session manager (or anything with its `validateSession`), through which a use of a
   * session slides its idle timeout: every refresh, and a `verifyToken` that asks for it
   * (`recordActivity`). Without it neither slides (and `recordActivity` is refused): a session
   * kept alive only by refreshes or introspection then ends at its idle timeout.
   */
  sessions?: SessionActivity;
}

/**
 * What the JWT service needs of the session manager: recording a use of a session. With
 * `recordSessionUse` (the session manager has it), a refresh records the use of the session its
 * rotation found live without reading the session again.
 */
export type SessionActivity = Pick<SessionManager, 'validateSession'> &
  Partial<Pick<SessionManager, 'recordSessionUse'>>;

/** The claims of our access tokens. */
export interface AccessTokenPayload {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** Issue time in ms (private claim): the legacy revoke-all watermark compares it. */
  iat_ms: number;
  /**
   * The user's generation the token was minted under (private claim; docs/data-model.md, "User
   * generation"): a revoke-all raises the user's generation past it. Absent on tokens minted
   * before generations existed.
   */
  ugen?: number;
  sid?: string;
  fid?: string;
  email?: string;
  roles?: string[];
  permissions?: string[];
  /** Space-separated permissions (RFC 8693 style), for introspection. */
  scope?: string;
}

/** What verification returns: the payload, and whether revocation could be checked. */
export interface VerifiedToken {
  payload: AccessTokenPayload;
  /**
   * `true` normally. `false` only with `failOpen` when the store could not be reached: the
   * signature and times were checked, revocation was not.
   */
  revocationChecked: boolean;
}

export interface AccessTokenRecord {
  jti: string;
  userId: string;
  sessionId: string | null;
  familyId: string | null;
  /** ms */
  issuedAt: number;
  /** ms */
  expiresAt: number;
}

export interface CreateAccessTokenInput {
  userId: string;
  email?: string;
  roles?: readonly string[];
  permissions?: readonly string[];
  sessionId?: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  record: AccessTokenRecord;
}

export interface VerifyOptions {
  /**
   * Fail open when the store cannot be reached (default `false`: fail closed with
   * `StoreUnavailableError`/`StoreTimeoutError`). Failing open lets a revoked token work until it
   * expires while Redis is down: use only where availability outweighs revocation.
   */
  failOpen?: boolean;
  /**
   * Record this verification as a use of the token's session, sliding its idle timeout (at most
   * one store write per session per `activityWriteIntervalSeconds`), after the revocation check
   * passed. Ask for it where a verification stands for the user acting (a resource server or
   * gateway checking the token of a request it serves); leave it off for checks made on the
   * user's behalf without them (background jobs, audits), which must not keep an idle session
   * alive. `endpoint` is recorded as the session's `lastEndpoint` with the write. A token without
   * a session, or a revocation left unchecked (`failOpen`), records nothing; a session that ended
   * meanwhile makes the verification fail with `ERR_TOKEN_REVOKED` (`session_ended`); a store
   * failure of the write itself is ignored (the revocation check already passed). Needs the
   * service to be created with `sessions` (else `ERR_INVALID_ARGUMENT`). Default `false`.
   */
  recordActivity?: boolean | { endpoint?: string };
}

export interface JwtService {
  /** Signs an access token. */
  createAccessToken(input: CreateAccessTokenInput): Promise<{ token: string; record: AccessTokenRecord }>;
  /** Starts a refresh family bound to the session and returns an access + refresh token pair. */
  issueTokenPair(input: CreateAccessTokenInput & { sessionId: string }): Promise<TokenPair>;
  /**
   * Verifies signature (algorithm pinned per `kid`), `exp` (required), `nbf`, `iss`, `aud`, then
   * revocation (blacklisted jti, revoked family, user watermark, ended session).
   * @throws JwtVerificationError (ERR_JWT_*) or TokenRevokedError (ERR_TOKEN_REVOKED);
   *   StoreUnavailableError/StoreTimeoutError when revocation cannot be checked (fail closed).
   */
  verifyToken(token: string, options?: VerifyOptions): Promise<VerifiedToken>;
  /** Signature and claims only, no revocation check: for revoking or inspecting a token. */
  decodeVerified(token: string): AccessTokenPayload;
  /**
   * Blacklists a jti for `ttlSeconds` (default: the access token life) plus
   * `clockToleranceSeconds`, the time a token is still accepted after its `exp`.
   */
  revokeToken(input: { jti: string; ttlSeconds?: number; userId: string; reason: string }): Promise<void>;
  /** Revokes an access token given as a string (RFC 7009). `false` when it is not a valid token of ours. */
  revokeAccessToken(token: string, reason: string): Promise<boolean>;
  /** Revokes a refresh token's whole family (and so its access tokens). `false` when unknown. */
  revokeRefreshToken(refreshToken: string, reason: string): Promise<boolean>;
  /** O(1): every token of the user issued before now stops verifying. */
  revokeAllUserTokens(userId: string, reason: string): Promise<void>;
  /** The guide's list form (TTLs as `revokeToken`'s). Returns how many jtis were blacklisted. */
  blacklistUserTokens(input: {
    userId: string;
    tokenJtis: readonly string[];
    ttlSeconds?: number;
    reason: string;
  }): Promise<number>;
  /**
   * Rotates a refresh token. Concurrent or repeated presentations of the just-rotated token within
   * the grace window return the same pair; any other reuse revokes the family, ends its session and
   * records `token_reuse_detected`.
   *
   * `context.scope` narrows the new access token's permissions (RFC 6749 §6) to a subset of those
   * granted at login; the family keeps the full set, so the next refresh without a scope gets it
   * back. A duplicate presentation inside the grace window returns the first answer's pair as it
   * was (with that call's scope).
   *
   * A successful refresh is a use of the session: with `sessions` configured it slides the
   * session's idle timeout (as `validateSession`, recording `context.endpoint`).
   * @throws RefreshTokenInvalidError, RefreshTokenReusedError, RefreshTokenRevokedError;
   *   InvalidArgumentError (`scope`) for a scope not granted, before the token is consumed
   */
  refreshTokens(
    refreshToken: string,
    context?: { ipAddress?: string; userAgent?: string; scope?: readonly string[]; endpoint?: string },
  ): Promise<TokenPair>;
  /**
   * Prunes the token blacklist index alone (the guide's name; no lock). The service, the CLI and
   * the admin route run `cleanup()` instead: every index, once, under the cleanup lock.
   */
  cleanupExpiredTokens(): Promise<{ blacklistIndexEntries: number; durationMs: number }>;
  /** Public keys of the asymmetric keys, as a JWKS. Empty `keys` with HS256 only. */
  jwks(): Promise<{ keys: Array<Record<string, unknown>> }>;
  readonly accessTokenTtlSeconds: number;
}

export interface SessionManagerOptions {
  stores: Stores;
  /** Idle timeout (sliding), whole minutes from 1 to 10,080 (a week). Default 30. */
  sessionTimeoutMinutes?: number;
  /** Absolute lifetime, never extended: whole minutes from 1 to 525,600. Default 720 (12 h). */
  absoluteLifetimeMinutes?: number;
  /** Live sessions per user, 1 to 1000. Default 5. */
  maxSessionsPerUser?: number;
  /** Default `evict-oldest`. */
  sessionLimitPolicy?: SessionLimitPolicy;
  /**
   * Trusted devices per user, 1 to 1000 (default 20): trusting one more evicts the trust that ends first and
   * records a `trusted_device_evicted` event.
   */
  maxTrustedDevicesPerUser?: number;
  /**
   * `validateSession` writes the session's activity (and so slides its idle timeout) only when
   * the last write is at least this old, whatever the endpoint; other validations only read (the
   * endpoint of the use that makes the next write is recorded with it). A session can therefore
   * expire up to this much earlier than "idle timeout after the last request". 0 writes on every
   * validation. Default 15, and never more than a tenth of the idle timeout.
   */
  activityWriteIntervalSeconds?: number;
  clock?: Clock;
}

export interface CreateSessionInput {
  userId: string;
  ipAddress: string;
  userAgent: string;
  deviceFingerprint?: string | null;
  deviceId?: string | null;
  mfaVerified?: boolean;
}

/** A session that could not be checked because the store was down (only with `failOpen`). */
export interface UnverifiedSession {
  sessionId: string;
  unverified: true;
}

export interface SessionManager {
  /** Creates a session under the cap; records `session_created` (and `new_device`, evictions). */
  createSession(input: CreateSessionInput): Promise<Session>;
  /**
   * The live session with its activity recorded (idle timeout slides, never past the absolute
   * lifetime; at most one write per `activityWriteIntervalSeconds`, whatever the endpoint), or
   * `null`. Never resurrects a session terminated meanwhile.
   * Fails closed (throws StoreUnavailableError/StoreTimeoutError) by default. With `failOpen`, an
   * unreachable store yields `{ sessionId, unverified: true }` instead: nothing says the session
   * still exists, so a session terminated (logout, theft response, admin revoke) keeps working
   * while Redis is down. Use it only where availability outweighs that, and never to authorize
   * money movement.
   */
  validateSession(
    sessionId: string,
    options?: { endpoint?: string; failOpen?: boolean },
  ): Promise<Session | UnverifiedSession | null>;
  /**
   * Records a use of a session the caller has just found live in an atomic store step (the refresh
   * rotation reads the session in its own script). When its activity was written less than
   * `activityWriteIntervalSeconds` ago (most uses) nothing is read or written; otherwise it is
   * `validateSession` (the stored record is read and written, never the given copy). The session,
   * or `null` when it is no longer live.
   */
  recordSessionUse(session: Session, options?: { endpoint?: string }): Promise<Session | null>;
  /** The live session without recording activity. */
  getSession(sessionId: string): Promise<Session | null>;
  /** A new id for the same session; the old id is dead at once. @throws SessionNotFoundError */
  rotateSession(sessionId: string): Promise<Session>;
  listUserSessions(userId: string): Promise<Session[]>;
  /** Ends the session (its tokens stop verifying). Returns whether it was live. */
  terminateSession(sessionId: string, reason: string): Promise<boolean>;
  /** Ends every session of the user but `exceptSessionId`; returns how many ended. */
  terminateUserSessions(input: {
    userId: string;
    exceptSessionId?: string;
    reason?: string;
  }): Promise<number>;
  trustDevice(input: {
    userId: string;
    deviceFingerprint: string;
    deviceName: string;
    deviceType: string;
    durationDays?: number;
  }): Promise<TrustedDevice>;
  /**
   * Trusts the session's own device (the device id and fingerprint digest recorded when the
   * session was created; nothing the caller names), so it may skip MFA until it expires. The
   * session must be live and MFA-verified. Records `device_trusted` with the session, IP address
   * and user agent of the request.
   * @throws SessionNotFoundError when the session is not live; MfaRequiredError when it is not
   *   MFA-verified; InvalidArgumentError when the session has no device, `deviceFingerprint` is
   *   not the session's, or `durationDays` is not 1-365.
   */
  trustSessionDevice(input: {
    sessionId: string;
    /** Optional: when given, it must be the session's own device's fingerprint. */
    deviceFingerprint?: string;
    deviceName: string;
    deviceType: string;
    durationDays?: number;
    ipAddress: string;
    userAgent: string;
  }): Promise<TrustedDevice>;
  /**
   * Marks a live session MFA-verified (after a step-up the login service confirmed); its TTL and
   * timeouts are unchanged. Returns the session as now stored.
   * @throws SessionNotFoundError when the session is not live.
   */
  markSessionMfaVerified(sessionId: string): Promise<Session>;
  isDeviceTrusted(userId: string, deviceFingerprint: string): Promise<boolean>;
  untrustDevice(userId: string, deviceId: string): Promise<boolean>;
  listTrustedDevices(userId: string): Promise<TrustedDevice[]>;
  listSecurityEvents(
    userId: string,
    options?: { since?: number; until?: number; limit?: number },
  ): Promise<SecurityEvent[]>;
  /**
   * One locked round over every index (the guide's name): the same as `cleanup(stores, { onProgress })`,
   * reported as the store's `CleanupStats` (`skipped` when another round holds the lock).
   */
  cleanupExpiredSessions(onProgress?: (scanned: number, total: number | null) => void): Promise<CleanupStats>;
}
