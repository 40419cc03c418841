/**
 * The error catalog. Every failure a caller handles differently has its own class and a stable
 * `code` (never reused once removed). Core errors carry no HTTP status: the HTTP layer maps codes
 * to statuses in one table (`src/http/errors.ts`). `docs/errors.md` lists every code; a test keeps
 * the two in step.
 */

/** Every stable error code this package can produce. */
export const ERROR_CODES = [
  'ERR_CONFIG',
  'ERR_INVALID_ARGUMENT',
  'ERR_INVALID_ID',
  'ERR_STORE_UNAVAILABLE',
  'ERR_STORE_TIMEOUT',
  'ERR_STORE_BUSY',
  'ERR_SESSION_LIMIT',
  'ERR_SESSION_NOT_FOUND',
  'ERR_MFA_REQUIRED',
  'ERR_JWT_MALFORMED',
  'ERR_JWT_SIGNATURE',
  'ERR_JWT_ALGORITHM',
  'ERR_JWT_KEY_UNKNOWN',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
  'ERR_JWT_CLAIM',
  'ERR_TOKEN_REVOKED',
  'ERR_REFRESH_INVALID',
  'ERR_REFRESH_REUSED',
  'ERR_REFRESH_REVOKED',
  'ERR_HANDOFF_INVALID',
  'ERR_UNAUTHORIZED',
  'ERR_FORBIDDEN',
  'ERR_ORIGIN_NOT_ALLOWED',
  'ERR_NOT_FOUND',
  'ERR_METHOD_NOT_ALLOWED',
  'ERR_VALIDATION',
  'ERR_MALFORMED_REQUEST',
  'ERR_REQUEST_TIMEOUT',
  'ERR_HEADERS_TOO_LARGE',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'ERR_RATE_LIMITED',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class: a stable `code`, a readable message, the original failure in `cause`. */
export class OptixError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad configuration or misuse, thrown at construction. `path` names the option or variable. */
export class ConfigError extends OptixError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A caller passed a value that is not acceptable (a negative TTL, an empty reason…). */
export class InvalidArgumentError extends OptixError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('ERR_INVALID_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** An id that would become part of a Redis key failed validation. Checked before any I/O. */
export class InvalidIdError extends OptixError {
  readonly kind: string;
  constructor(kind: string, reason: string) {
    super('ERR_INVALID_ID', `invalid ${kind}: ${reason}`);
    this.kind = kind;
  }
}

/** The store (Redis) could not be reached or answered with an error. `cause` holds the original. */
export class StoreUnavailableError extends OptixError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, options);
  }
}

/** The store did not answer within the configured deadline. */
export class StoreTimeoutError extends OptixError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, operation: string) {
    super('ERR_STORE_TIMEOUT', `store did not answer ${operation} within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The store is short of memory: a write that can wait (a login, a device trust) was refused so
 * that revocations keep working, or Redis itself refused a write (`OOM`). Retry later.
 */
export class StoreBusyError extends OptixError {
  readonly write: string;
  constructor(write: string, options?: { cause?: unknown; message?: string }) {
    super('ERR_STORE_BUSY', options?.message ?? `the store is short of memory; ${write} refused`, options);
    this.write = write;
  }
}

/** `maxSessionsPerUser` reached with the `deny` policy. */
export class SessionLimitError extends OptixError {
  readonly userId: string;
  readonly limit: number;
  constructor(userId: string, limit: number) {
    super('ERR_SESSION_LIMIT', `session limit of ${limit} reached`);
    this.userId = userId;
    this.limit = limit;
  }
}

/** An operation needed a live session that does not exist (or has ended). */
export class SessionNotFoundError extends OptixError {
  constructor(message = 'session not found or ended') {
    super('ERR_SESSION_NOT_FOUND', message);
  }
}

/**
 * The operation needs a session whose second factor was verified (at login, or by a step-up the
 * login service confirmed with `markSessionMfaVerified`): trusting a device lets it skip MFA.
 */
export class MfaRequiredError extends OptixError {
  constructor(message = 'this needs an MFA-verified session (verify the second factor first)') {
    super('ERR_MFA_REQUIRED', message);
  }
}

export type JwtErrorCode =
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWT_SIGNATURE'
  | 'ERR_JWT_ALGORITHM'
  | 'ERR_JWT_KEY_UNKNOWN'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_CLAIM';

/** A token failed verification for a reason other than revocation. */
export class JwtVerificationError extends OptixError {
  /** For `ERR_JWT_CLAIM`, the claim that failed (`iss`, `aud`, `exp`, …). */
  readonly claim: string | undefined;
  constructor(code: JwtErrorCode, message: string, claim?: string) {
    super(code, message);
    this.claim = claim;
  }
}

export type RevocationReason = 'blacklisted' | 'family_revoked' | 'user_revoked' | 'session_ended';

/** A validly signed token that has been revoked. Carries what was found. */
export class TokenRevokedError extends OptixError {
  readonly reason: RevocationReason;
  readonly jti: string;
  readonly familyId: string | undefined;
  readonly sessionId: string | undefined;
  constructor(reason: RevocationReason, data: { jti: string; familyId?: string; sessionId?: string }) {
    super('ERR_TOKEN_REVOKED', `token revoked (${reason})`);
    this.reason = reason;
    this.jti = data.jti;
    this.familyId = data.familyId;
    this.sessionId = data.sessionId;
  }
}

/** A refresh token that is unknown, expired, malformed, or whose session has ended. */
export class RefreshTokenInvalidError extends OptixError {
  constructor(message = 'refresh token is invalid or expired') {
    super('ERR_REFRESH_INVALID', message);
  }
}

/** A refresh token presented again outside the grace window: the family is now revoked. */
export class RefreshTokenReusedError extends OptixError {
  readonly familyId: string;
  constructor(familyId: string) {
    super('ERR_REFRESH_REUSED', 'refresh token reuse detected; the token family has been revoked');
    this.familyId = familyId;
  }
}

/** A refresh token whose family was already revoked. */
export class RefreshTokenRevokedError extends OptixError {
  readonly familyId: string;
  constructor(familyId: string) {
    super('ERR_REFRESH_REVOKED', 'refresh token family has been revoked');
    this.familyId = familyId;
  }
}

/**
 * A browser hand-off code that is unknown, expired or already used (it is single-use), or whose
 * session ended before it was exchanged.
 */
export class HandoffInvalidError extends OptixError {
  constructor(message = 'the hand-off code is unknown, expired or already used') {
    super('ERR_HANDOFF_INVALID', message);
  }
}

export function isOptixError(err: unknown): err is OptixError {
  return err instanceof OptixError;
}

/**
 * An error as one line for a log or a terminal: its message (or name), with any password in a
 * URL (`scheme://user:secret@`) masked.
 */
export function describeError(err: unknown): string {
  const msg = err instanceof Error ? err.message || err.name : String(err);
  return msg.replace(/(\w+:\/\/[^:@/\s]*:)[^@\s]*@/g, '$1***@');
}

/** The codes of a store that could not answer (`StoreUnavailableError`, `StoreTimeoutError`). */
export const STORE_FAILURE_CODES: readonly ErrorCode[] = Object.freeze([
  'ERR_STORE_UNAVAILABLE',
  'ERR_STORE_TIMEOUT',
]);

/**
 * Whether an error code says the store could not answer: the one test behind every fail-open
 * choice, every 503 and every "Redis error" count. A store that answered "no" (busy, limit,
 * invalid input) is not a failure.
 */
export function isStoreFailureCode(code: unknown): boolean {
  return code === 'ERR_STORE_UNAVAILABLE' || code === 'ERR_STORE_TIMEOUT';
}

/** Whether `err` is a store failure (`isStoreFailureCode` of its code). */
export function isStoreFailure(err: unknown): err is OptixError {
  return err instanceof OptixError && isStoreFailureCode(err.code);
}
