import { createCipheriv, createDecipheriv, hash, hkdfSync } from 'node:crypto';
import { InvalidIdError } from './errors.js';
import { Generations } from './generations.js';
import { randomToken } from './random.js';

/** 128 bits from the CSPRNG, base64url (22 characters); drawn from the pool of `random.ts`. */
export { randomToken };

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
  // A login checks its user id four times (the manager, the store's checks, each event's): the
  // last id that passed is not checked again (a string is immutable, the checks are pure).
  if (value === lastUserId) return;
  if (typeof value !== 'string') throw new InvalidIdError('userId', 'must be a string');
  if (value.length === 0) throw new InvalidIdError('userId', 'must not be empty');
  if (Buffer.byteLength(value, 'utf8') > MAX_USER_ID_BYTES) {
    throw new InvalidIdError('userId', `longer than ${MAX_USER_ID_BYTES} bytes (UTF-8)`);
  }
  if (NOT_PRINTABLE.test(value)) {
    throw new InvalidIdError('userId', 'may contain only printable characters (no control characters)');
  }
  lastUserId = value;
}
/** The last user id `assertUserId` accepted (`undefined`: none yet; never a rejected value). */
let lastUserId: string | undefined;

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
  const cached = userTags.get(userId);
  if (cached !== undefined) return cached;
  const tag = hash('sha256', `optix:user:${userId}`, 'base64url').slice(0, USER_TAG_LENGTH);
  userTags.set(userId, tag);
  return tag;
}
export const USER_TAG_LENGTH = 16;

/**
 * An old-form (unkeyed) id bound to a user's slot: `<tag>.<128 random bits>` (39 characters).
 * Services issue ids through their deployment's `IdCodec` (`Stores.ids`) instead.
 */
export function newUserScopedId(userId: string): string {
  return `${userTag(userId)}.${randomToken(16)}`;
}

const SCOPED_ID_PATTERN = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})$/;
/** A keyed id: `<22-character sealed tag>.<22 random characters>` (45 characters). */
const SEALED_ID_PATTERN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/;
/** The 4 fixed bytes sealed with the tag: a prefix that does not decrypt to them is forged or garbage. */
const SEAL_MARKER = Buffer.from('OPTX', 'latin1');
/** How many parsed prefixes each codec remembers (one entry ≈ 150 bytes; about one per active user). */
export const SEALED_TAG_CACHE_SIZE = 10_000;
/** Bytes of a deployment id-tag secret (`ID_TAG_SECRET`, or the one generated on Redis). */
export const MIN_ID_TAG_SECRET_BYTES = 32;

/**
 * Makes and reads the ids we generate for a user's objects (session ids, refresh family ids,
 * event ids). The stores and services of one deployment share one codec (`Stores.ids`).
 *
 * With a deployment secret, an id handed out is `<seal>.<random>`: the seal is AES-128 of one
 * block (the user's 12-byte tag + a 4-byte marker) under a key derived from the secret, so the
 * same user gets the same prefix, but without the secret nobody can compute it from a guessed
 * user id nor recover the tag. Parsing opens the seal and yields the plain tag; Redis keys keep
 * the plain tag (`userTag`) as their hash tag, so slots and key names are unchanged.
 *
 * Ids of the old form (`<plain tag>.<random>`) still parse, so ids issued before the upgrade
 * work until they expire; new ids are never issued in that form by a keyed codec.
 */
export interface IdCodec {
  /** True when ids are sealed under a deployment secret. */
  readonly keyed: boolean;
  /** A new id bound to the user's slot. */
  newId(userId: string): string;
  /** The plain tag and random part of a generated id, or throws `InvalidIdError` (malformed or forged). */
  parse(kind: string, value: unknown): { tag: string; rest: string };
  /** True when `value` parses (no throw). */
  is(value: unknown): value is string;
}

/**
 * The id codec of a deployment. `secret` (at least 32 bytes) keys the seal; `null` gives the old,
 * unkeyed form (plain tag prefixes): only for tools and tests that build ids without a deployment.
 * @throws ConfigError-free: a short secret throws `RangeError` (the config layer validates first).
 */
export function createIdCodec(secret: Uint8Array | null): IdCodec {
  if (secret === null) return PLAIN_ID_CODEC;
  if (secret.byteLength < MIN_ID_TAG_SECRET_BYTES) {
    throw new RangeError(`id tag secret must be at least ${MIN_ID_TAG_SECRET_BYTES} bytes`);
  }
  // A derived key, so the secret itself is never the AES key and could key other things later.
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'optix:id-tag-seal:v1', 16));
  // Bounded caches (`Generations`, two generations of SEALED_TAG_CACHE_SIZE / 2 entries): sealing
  // and opening are one AES block each, about 1–4 µs; the cache makes the hot path
  // (verify/revocation check of an active user's id) a Map lookup.
  // One long-lived ECB cipher each way, fed one 16-byte block per call and never finalised: with
  // padding off, `update` returns each block at once and ECB keeps no state between blocks
  // (creating a cipher per call costs tens of µs: OpenSSL 3 fetches the algorithm each time).
  const encryptor = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const decryptor = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const sealOf = new Generations<string, string>(SEALED_TAG_CACHE_SIZE / 2);
  const tagOf = new Generations<string, string>(SEALED_TAG_CACHE_SIZE / 2);
  // One block reused (filled and encrypted synchronously): the tag's 12 bytes, then the marker.
  const block = Buffer.alloc(16);
  SEAL_MARKER.copy(block, 12);
  const seal = (tag: string): string => {
    const cached = sealOf.get(tag);
    if (cached !== undefined) return cached;
    if (block.write(tag, 0, 12, 'base64url') !== 12) throw new RangeError('a user tag is 12 bytes');
    const sealed = encryptor.update(block).toString('base64url');
    sealOf.set(tag, sealed);
    // Opening what was just sealed gives `tag` back: remembered, a new user's id handed out here
    // (a login) is parsed by the checks and the store without a second AES block.
    tagOf.set(sealed, tag);
    return sealed;
  };
  const open = (sealed: string): string | null => {
    const cached = tagOf.get(sealed);
    if (cached !== undefined) return cached;
    const bytes = Buffer.from(sealed, 'base64url');
    // 22 base64url characters carry 132 bits: the last 4 must be zero (one spelling per block).
    if (bytes.length !== 16 || bytes.toString('base64url') !== sealed) return null;
    const block = decryptor.update(bytes);
    // Refusals are not cached: garbage cannot push real users' prefixes out of the cache.
    if (!block.subarray(12).equals(SEAL_MARKER)) return null;
    const tag = block.subarray(0, 12).toString('base64url');
    tagOf.set(sealed, tag);
    return tag;
  };
  // The last id parsed, and its parts (frozen: every caller gets the same object). A login checks
  // and keys its new session id five times in one synchronous run, a verification its session and
  // family ids twice each: parsed once (a regular expression and two substrings each time).
  let lastValue: string | null = null;
  let lastParsed: Readonly<{ tag: string; rest: string }> | null = null;
  const tryParse = (value: unknown): { tag: string; rest: string } | null => {
    if (typeof value !== 'string') return null;
    if (value === lastValue) return lastParsed;
    let parsed: { tag: string; rest: string } | null = null;
    const sealed = SEALED_ID_PATTERN.exec(value);
    if (sealed) {
      const tag = open(sealed[1]!);
      if (tag !== null) parsed = { tag, rest: sealed[2]! };
    } else {
      const plain = SCOPED_ID_PATTERN.exec(value);
      if (plain) parsed = { tag: plain[1]!, rest: plain[2]! };
    }
    // Refusals are not remembered (as in `open`).
    if (parsed !== null) {
      lastValue = value;
      lastParsed = Object.freeze(parsed);
    }
    return parsed;
  };
  const parse = (kind: string, value: unknown): { tag: string; rest: string } => {
    const parsed = tryParse(value);
    if (parsed === null) throw new InvalidIdError(kind, 'malformed');
    return parsed;
  };
  return Object.freeze({
    keyed: true,
    newId: (userId: string) => `${seal(userTag(userId))}.${randomToken(16)}`,
    parse,
    is: (value: unknown): value is string => tryParse(value) !== null,
  });
}

/**
 * Tags of recent user ids: one login or refresh derives its user's tag for several keys and ids
 * (~2 µs of SHA-256 each); the same bounded two-generation cache as the sealed prefixes.
 */
const userTags = new Generations<string, string>(SEALED_TAG_CACHE_SIZE / 2);

/** The unkeyed codec: old-form ids only (`<plain tag>.<random>`). */
export const PLAIN_ID_CODEC: IdCodec = Object.freeze({
  keyed: false,
  newId: (userId: string) => newUserScopedId(userId),
  parse: (kind: string, value: unknown) => parseUserScopedId(kind, value),
  is: (value: unknown): value is string => isUserScopedId(value),
});

/**
 * Splits an old-form (unkeyed) generated id into its tag and random part, or throws
 * `InvalidIdError`. Services and stores parse through their deployment's `IdCodec`, which also
 * accepts this form.
 */
export function parseUserScopedId(kind: string, value: unknown): { tag: string; rest: string } {
  if (typeof value !== 'string' || value.length > MAX_ID_LENGTH) {
    throw new InvalidIdError(kind, 'malformed');
  }
  const m = SCOPED_ID_PATTERN.exec(value);
  if (!m) throw new InvalidIdError(kind, 'malformed');
  return { tag: m[1]!, rest: m[2]! };
}

/** True when `value` is a well-formed old-form generated id (no throw). */
export function isUserScopedId(value: unknown): value is string {
  return typeof value === 'string' && SCOPED_ID_PATTERN.test(value);
}

// SHA-256 here and on the HTTP paths is node:crypto's one-shot `hash` (Node ≥ 20.12): the same
// bytes as `createHash().update().digest()` (strings as UTF-8), without a Hash object and its
// calls: ~0.25 µs against ~1.2–1.5 µs per digest measured here. A login takes three (user tag,
// fingerprint digest, device id), a request with a credential one or two.

/** SHA-256 as base64url: how refresh secrets and device fingerprints are kept at rest. */
export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

/**
 * What is kept of a device fingerprint: its SHA-256, in hex. The raw value lets a trusted device
 * skip MFA (`isDeviceTrusted`), so it is a credential and never stored; sessions keep this digest
 * and trusted-device ids are derived from it.
 */
export function fingerprintDigest(rawFingerprint: string): string {
  return hash('sha256', rawFingerprint, 'hex');
}

/**
 * The id of a trusted device: 22 base64url characters of SHA-256 over the user id and the
 * fingerprint. Stable for the same pair, so "is this device trusted?" is one key read, and the raw
 * fingerprint never needs to be stored.
 */
export function trustedDeviceId(userId: string, deviceFingerprint: string): string {
  // A login derives its device id, then the session record's encoder derives it again to see
  // whether it may be left out: the last answer is kept (a pure function of the two strings).
  const last = lastDevice;
  if (last !== null && last.userId === userId && last.fingerprint === deviceFingerprint) return last.id;
  const id = hash('sha256', `optix:device:${userId}\0${deviceFingerprint}`, 'base64url').slice(0, 22);
  lastDevice = { userId, fingerprint: deviceFingerprint, id };
  return id;
}
let lastDevice: { userId: string; fingerprint: string; id: string } | null = null;

/** An event id for an event with no user: a random tag of its own. */
export function newUnscopedId(): string {
  return `${randomToken(12)}.${randomToken(16)}`;
}
