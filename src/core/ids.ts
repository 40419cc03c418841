import { createHash, randomBytes } from 'node:crypto';
import { InvalidIdError } from './errors.js';

/**
 * Ids that become part of Redis keys. Caller-supplied ids that appear in keys in clear (device ids,
 * jtis) must match `ID_PATTERN`: no `:` (our key separator), no `{`/`}` (Redis Cluster hash tags),
 * no glob characters (`*?[]`), no whitespace or control characters. Length ≤ 256. User ids reach
 * keys only as `userTag(userId)` and are checked by `assertUserId` (any printable Unicode).
 */
export const MAX_ID_LENGTH = 256;
const ID_PATTERN = /^[A-Za-z0-9._~@|+=-]+$/;

/** Validates a caller-supplied id before it reaches a key. Throws `InvalidIdError` (ERR_INVALID_ID). */
export function assertId(kind: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new InvalidIdError(kind, 'must be a string');
  if (value.length === 0) throw new InvalidIdError(kind, 'must not be empty');
  if (value.length > MAX_ID_LENGTH) throw new InvalidIdError(kind, `longer than ${MAX_ID_LENGTH} characters`);
  if (!ID_PATTERN.test(value)) {
    throw new InvalidIdError(kind, 'may contain only letters, digits and . _ ~ @ | + = -');
  }
}

/** The longest user id, in UTF-8 bytes. */
export const MAX_USER_ID_BYTES = 256;

/** Control characters, lone surrogates and line/paragraph separators: what a user id may not hold. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u;

/**
 * Validates a user id: any printable Unicode text (`tenant:kim`, `Kim Lee`, `ユーザー`) of 1 to
 * `MAX_USER_ID_BYTES` UTF-8 bytes; no control characters, lone surrogates or line separators.
 * User ids never reach a Redis key in clear: keys carry `userTag(userId)`, a digest, so the
 * characters that would break a key (`:`, `{}`, globs, spaces) are harmless here.
 * Throws `InvalidIdError` (ERR_INVALID_ID).
 */
export function assertUserId(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new InvalidIdError('userId', 'must be a string');
  if (value.length === 0) throw new InvalidIdError('userId', 'must not be empty');
  if (Buffer.byteLength(value, 'utf8') > MAX_USER_ID_BYTES) {
    throw new InvalidIdError('userId', `longer than ${MAX_USER_ID_BYTES} bytes (UTF-8)`);
  }
  if (NOT_PRINTABLE.test(value)) {
    throw new InvalidIdError('userId', 'may contain only printable characters (no control characters)');
  }
}

/** True when `value` is a valid user id (no throw). */
export function isUserId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    Buffer.byteLength(value, 'utf8') <= MAX_USER_ID_BYTES &&
    !NOT_PRINTABLE.test(value)
  );
}

/**
 * The user's slot tag: 16 base64url characters (96 bits) of SHA-256 over the user id.
 *
 * Every key that belongs to one user (their session index, sessions, refresh families, trusted
 * devices, security events, revoke-all watermark) carries this tag as its Redis Cluster hash tag,
 * so one Lua script can change them together on one node. Ids we generate for a user's objects
 * (session ids, family ids, event ids) start with the tag, so a key can be derived from the id
 * alone, without a lookup. The tag is a digest, not a secret; session ids are identifiers, not
 * bearer credentials (see docs/data-model.md).
 */
export function userTag(userId: string): string {
  return createHash('sha256')
    .update('optix:user:')
    .update(userId)
    .digest('base64url')
    .slice(0, USER_TAG_LENGTH);
}
export const USER_TAG_LENGTH = 16;

/** 128 bits from the CSPRNG, base64url (22 characters). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** A generated id bound to a user's slot: `<tag>.<128 random bits>` (39 characters). */
export function newUserScopedId(userId: string): string {
  return `${userTag(userId)}.${randomToken(16)}`;
}

const SCOPED_ID_PATTERN = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})$/;

/**
 * Splits a generated user-scoped id into its tag and random part, or throws `InvalidIdError`.
 * Used for session ids, refresh family ids and event ids.
 */
export function parseUserScopedId(kind: string, value: unknown): { tag: string; rest: string } {
  if (typeof value !== 'string' || value.length > MAX_ID_LENGTH) {
    throw new InvalidIdError(kind, 'malformed');
  }
  const m = SCOPED_ID_PATTERN.exec(value);
  if (!m) throw new InvalidIdError(kind, 'malformed');
  return { tag: m[1]!, rest: m[2]! };
}

/** True when `value` is a well-formed generated id (no throw). */
export function isUserScopedId(value: unknown): value is string {
  return typeof value === 'string' && SCOPED_ID_PATTERN.test(value);
}

/** SHA-256 as base64url: how refresh secrets and device fingerprints are kept at rest. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * What is kept of a device fingerprint: its SHA-256, in hex. The raw value lets a trusted device
 * skip MFA (`isDeviceTrusted`), so it is a credential and never stored; sessions keep this digest
 * and trusted-device ids are derived from it.
 */
export function fingerprintDigest(rawFingerprint: string): string {
  return createHash('sha256').update(rawFingerprint).digest('hex');
}

/**
 * The id of a trusted device: 22 base64url characters of SHA-256 over the user id and the
 * fingerprint. Stable for the same pair, so "is this device trusted?" is one key read, and the raw
 * fingerprint never needs to be stored.
 */
export function trustedDeviceId(userId: string, deviceFingerprint: string): string {
  return createHash('sha256')
    .update('optix:device:')
    .update(userId)
    .update('\0')
    .update(deviceFingerprint)
    .digest('base64url')
    .slice(0, 22);
}

/** An event id for an event with no user: a random tag of its own. */
export function newUnscopedId(): string {
  return `${randomToken(12)}.${randomToken(16)}`;
}
