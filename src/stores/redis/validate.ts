/**
 * Argument checks of the Redis stores, made before any I/O. They mirror `../memory/validate.ts`
 * word for word so both backends refuse the same inputs with the same errors. Ids are checked by
 * the key schema (`keys.ts`) as each key is built.
 */
import { InvalidArgumentError, InvalidIdError } from '../../core/errors.js';
import { parseUserScopedId, userTag } from '../../core/ids.js';

/** A TTL in seconds: a finite number greater than zero. */
export function assertTtlSeconds(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(name, 'must be a finite number of seconds greater than 0');
  }
}

/** A finite number (a timestamp or a duration in ms). */
export function assertFiniteNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(name, 'must be a finite number');
  }
}

export function assertNonEmptyString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, 'must be a non-empty string');
  }
}

/**
 * Checks that a generated id (`<tag>.<random>`) belongs to `userId`'s slot: its tag is its key's
 * hash tag, so an id of another user's slot could not be changed in the same script.
 */
export function assertUserScoped(kind: string, id: string, userId: string): void {
  const { tag } = parseUserScopedId(kind, id);
  if (tag !== userTag(userId)) throw new InvalidIdError(kind, 'does not belong to the user');
}

/** A TTL in seconds as whole milliseconds, never 0 (`PX 0` is an error). */
export function ttlMs(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds * 1000));
}

/** Milliseconds from `now` until `at`, as a whole `PX` value (at least 1). */
export function msUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil(at - now));
}
