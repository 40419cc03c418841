/**
 * Argument checks every store makes before any I/O, shared by the memory and Redis backends so
 * both refuse the same inputs with the same errors. Ids are checked with `assertId` and the
 * deployment's `IdCodec` (`Stores.ids`; on Redis, by the key schema as each key is built).
 */
import { InvalidArgumentError, InvalidIdError } from './errors.js';
import { type IdCodec, userTag } from './ids.js';

/**
 * The longest TTL a store accepts: 10 years, in seconds. Longer is no revocation policy anyone
 * needs, and past ~1e14 s the expiry in ms no longer fits what Redis and Lua compute exactly.
 */
export const MAX_TTL_SECONDS = 315_360_000;

/** A TTL in seconds: a finite number greater than zero, at most `MAX_TTL_SECONDS`. */
export function assertTtlSeconds(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError(
      name,
      `must be a number of seconds greater than 0 and at most ${MAX_TTL_SECONDS} (10 years)`,
    );
  }
}

/** The largest timestamp (ms) a `Date` can hold; also what Redis's `PX`/`ZADD` take exactly. */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

/**
 * A finite number (a timestamp or a duration in ms) within ±`MAX_TIMESTAMP_MS`. Bounded so both
 * backends refuse the same values: past 1e21 a number prints in exponent form, which Redis refuses
 * as an argument (an error that would look like a store failure).
 */
export function assertFiniteNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_TIMESTAMP_MS) {
    throw new InvalidArgumentError(name, `must be a finite number of ms within ±${MAX_TIMESTAMP_MS}`);
  }
}

export function assertNonEmptyString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, 'must be a non-empty string');
  }
}

/** An options or input object (a call with `undefined` or `null` is refused, typed, not a TypeError). */
export function assertObject(name: string, value: unknown): asserts value is object {
  if (value === null || typeof value !== 'object') throw new InvalidArgumentError(name, 'must be an object');
}

/** The longest reason a revocation or termination takes (it is kept in the audit trail). */
export const MAX_REASON_LENGTH = 256;

/**
 * A revocation or termination reason: 1–256 characters, no NUL. Checked before anything is
 * written, so a refused reason never leaves a call half done.
 */
export function assertReason(value: unknown, name = 'reason'): asserts value is string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_REASON_LENGTH ||
    value.includes('\0')
  ) {
    throw new InvalidArgumentError(
      name,
      `must be a non-empty string of at most ${MAX_REASON_LENGTH} characters`,
    );
  }
}

/**
 * Checks that a generated id (`<tag>.<random>`) belongs to `userId`'s slot. On Redis the id's tag
 * is its key's hash tag, so an id of another user's slot could not be changed in the same script.
 */
export function assertUserScoped(ids: IdCodec, kind: string, id: string, userId: string): void {
  const { tag } = ids.parse(kind, id);
  if (tag !== userTag(userId)) throw new InvalidIdError(kind, 'does not belong to the user');
}

const CODE_HASH_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** A hand-off code hash as stores take it: 16 to 128 base64url characters (it becomes a key). */
export function assertCodeHash(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !CODE_HASH_PATTERN.test(value)) {
    throw new InvalidIdError('codeHash', 'must be 16 to 128 base64url characters');
  }
}
