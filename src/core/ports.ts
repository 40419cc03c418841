/**
 * Storage ports. Each is implemented twice, mirrored file for file: `src/stores/memory/` and
 * `src/stores/redis/`. Both are held to the text below by one contract suite per port
 * (`test/contract/*.contract.ts`, run on memory, on Redis with real and with manual time, and on
 * Sentinel, Cluster and TLS). "Atomic" here means: no other operation, from this process or
 * another, observes a state between the steps, and a crash leaves either all of it or none of it.
 *
 * Rules every method follows:
 *
 * - **Arguments are checked once, above the backends**, by one checked facade per port
 *   (`core/checked/`), which `createRedisStores` and `createMemoryStores` put in front of their
 *   store classes; defaults, bounds and enums are in `core/limits.ts`. The backends only store.
 * - **Ids are checked before any I/O.** A caller-supplied id (user id, device id, jti) is 1 to 256
 *   characters of `A-Z a-z 0-9 . _ ~ @ | + = -` (`assertId`). A generated id (session, family,
 *   event) is `<sealed user tag>.<22 random characters>`, or the old `<user tag>.<…>` form
 *   (`Stores.ids`, an `IdCodec`); wherever the user is
 *   known, its tag must be that user's tag, so an id of another user's slot is refused too. Any
 *   other value rejects with `InvalidIdError` (`ERR_INVALID_ID`) and never reaches Redis.
 * - **Other bad arguments reject with `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`)**: a TTL that
 *   is not a finite number of seconds > 0, an `expiresAt` that is not after the store's `now`, a
 *   limit or an option outside its range. A call that rejects, for an id or an argument, writes
 *   nothing.
 * - **Time is the store's injected clock** (`Clock`): "now", expiries and "live" are judged by it,
 *   never by Redis's clock. Every expiry is in ms since the epoch; TTL arguments are seconds.
 * - **Store failures** reject with `StoreUnavailableError` or `StoreTimeoutError` (the operation's
 *   deadline), never hang.
 * - **Indexes stay bounded without keyspace notifications**: a write prunes the expired members of
 *   the indexes it touches, reads filter them out, and the `cleanup…` methods sweep what is left
 *   (bounded `SCAN`s, never `KEYS`). (The memory blacklist index is pruned only by the sweep: a
 *   `todo` in the contract suite.)
 */
import type { ActivityCounts, MinuteFigures } from './activity.js';
import type { RevocationReason } from './errors.js';
import type { IdCodec } from './ids.js';
import type {
  BlacklistEntry,
  RefreshFamily,
  SecurityEvent,
  SecurityEventInput,
  Session,
  TrustedDevice,
} from './types.js';

export interface BlacklistTokenInput {
  jti: string;
  /** How long the entry lives; use the token's remaining lifetime. Finite and > 0. */
  ttlSeconds: number;
  userId?: string | null;
  reason: string;
}

/** `TokenBlacklist.blacklistAllUserTokens`. */
export interface BlacklistAllUserTokensInput {
  userId: string;
  tokenJtis: readonly string[];
  ttlSeconds: number;
  reason: string;
}

/** `TokenBlacklist.revokeUserTokensBefore`. */
export interface RevokeUserTokensBeforeInput {
  userId: string;
  beforeMs: number;
  ttlSeconds: number;
}

/** `GuideTokenBlacklist.blacklistTokenFamily`. */
export interface BlacklistTokenFamilyInput {
  familyId: string;
  ttlSeconds: number;
  reason: string;
}

/**
 * Token blacklist (the guide's RedisTokenBlacklist) and the per-user revoke-all record: what the
 * services use. The guide's other methods are on `GuideTokenBlacklist`.
 */
export interface TokenBlacklist {
  /**
   * Records a revoked access token: `revokedAt` is now, `expiresAt` is now + `ttlSeconds`, and
   * the entry is gone once that has passed. `userId` absent or `null` is kept as `null`.
   * @throws InvalidIdError for the jti or the user id; InvalidArgumentError for the TTL.
   */
  blacklistToken(input: BlacklistTokenInput): Promise<void>;
  /** Whether the jti has a live entry (`false` for an unknown jti and after the entry expired). */
  isBlacklisted(jti: string): Promise<boolean>;
  /** The entry's metadata, or `null` when the jti is not (or no longer) blacklisted. */
  getEntry(jti: string): Promise<BlacklistEntry | null>;
  /**
   * Blacklists every listed jti (the guide's list form) for the user; returns how many distinct
   * jtis were written (a repeated jti counts once; an empty list writes nothing and returns 0).
   * Every jti is checked first: one bad jti rejects the call and none is written.
   */
  blacklistAllUserTokens(input: BlacklistAllUserTokensInput): Promise<number>;
  /**
   * Revoke-all, in O(1) and atomically: raises the user's generation (docs/data-model.md, "User
   * generation") above every generation it has had, so every family created and every token
   * minted before this call returned is revoked (they carry an older generation) and everything
   * made after it is not (it carries this one), whatever the instances' clocks. Also raises the
   * legacy "revoked before" watermark to `beforeMs`, which judges only tokens and families that
   * carry no generation (written before generations existed; a token issued at `beforeMs` exactly
   * is not revoked). Other users are untouched. Both only move forward (an older `beforeMs`
   * leaves the watermark as it is); the record lives `ttlSeconds` (the longest token life).
   */
  revokeUserTokensBefore(input: RevokeUserTokensBeforeInput): Promise<void>;
  /**
   * The user's generation now: 0 before the first revoke-all (and once its record has expired),
   * then strictly increasing. A token minted now carries it (`ugen` claim).
   */
  getUserGeneration(userId: string): Promise<number>;
  /**
   * Prunes the blacklist index and the revoked-family index of members whose entry or family has
   * expired (Redis expires the entries themselves). Returns how many index members were removed:
   * 0 when nothing has expired, and 0 on a second pass. Live entries are kept.
   */
  cleanupExpired(): Promise<number>;
}

/**
 * The guide's `RedisTokenBlacklist` in full: the port plus the guide's methods that no service
 * calls (revoking a family by id without its token, and two reads for operators and tests). Both
 * backends implement it and `createRedisStores` / `createMemoryStores` hand it out
 * (`GuideStores`); the services take the narrower `TokenBlacklist`.
 */
export interface GuideTokenBlacklist extends TokenBlacklist {
  /**
   * Marks a refresh-token family revoked (with `reason`), so that every refresh and access token
   * of the family is rejected (`rotate` answers `revoked`, `RevocationChecker` `family_revoked`).
   * A known family stays revoked at least `ttlSeconds` and never less than its own life (its
   * `expiresAt` is never shortened). An unknown or expired family gets a **tombstone**: a revoked
   * family with no owner that lives `ttlSeconds`, so a token naming the family is still refused,
   * and that `RefreshFamilyStore.create` will not overwrite.
   */
  blacklistTokenFamily(input: BlacklistTokenFamilyInput): Promise<void>;
  /**
   * Whether the family (or tombstone) exists and is revoked: `false` for an unknown family and for
   * a live family nobody revoked; `false` again once the revoked family has expired.
   */
  isFamilyRevoked(familyId: string): Promise<boolean>;
  /** The user's watermark in ms, or `null` when there is none (never set, or expired). */
  getUserWatermark(userId: string): Promise<number | null>;
}

/** What to do when a user already has `maxSessions` live sessions. */
export type SessionLimitPolicy = 'evict-oldest' | 'deny';

export interface CreateSessionOptions {
  /**
   * Cap on live sessions for the user (an integer ≥ 1); unlimited when absent. Enforced atomically,
   * also under concurrency: 1000 concurrent creates with a cap of 5 leave exactly 5 live sessions.
   * Only live sessions count (expired ones do not).
   */
  maxSessions?: number;
  /**
   * Default `evict-oldest`: the oldest sessions by `createdAt` end to make room. With `deny`, a
   * create at the cap rejects with `SessionLimitError` (`ERR_SESSION_LIMIT`, carrying `userId`
   * and `limit`) and writes nothing.
   */
  onLimit?: SessionLimitPolicy;
  /**
   * Also answer `deviceSeen`: whether, just before this create, another live session of the user
   * was on the session's device (its `deviceId`). Read in the same steps as the create (the
   * session manager's "new device" rule), so a login needs no read of its own for it. A store
   * may answer `false` for a session whose device entry a crash lost (a "new device" warning too
   * many, never one too few).
   */
  reportDeviceSeen?: boolean;
  /**
   * The login's security events, recorded in the same atomic step as the session once it is in
   * (nothing on `deny` at the cap), each as `SecurityEventStore.record` records one (id, timestamp
   * now, retention, the per-user bound): `created` always; `newDevice` only for a session with a
   * device that is new to the user, neither on another live session of theirs just before this
   * one (`deviceSeen`) nor trusted by them (a live `TrustedDeviceStore` record). When the user's
   * event index is at its bound, a store may record them right after the create instead (the
   * bound's trimming is its own step). Under memory pressure events may be dropped, as `record` does.
   */
  events?: { created: SecurityEventInput; newDevice?: SecurityEventInput };
}

/** What `SessionStore.createSession` answers. */
export interface CreateSessionResult {
  /** Sessions ended to make room, oldest `createdAt` first. */
  evicted: string[];
  /** With `reportDeviceSeen` (and a session with a device): see `CreateSessionOptions`. */
  deviceSeen?: boolean;
}

/** Options of `SessionStore.updateSession`. */
export interface UpdateSessionOptions {
  /** New TTL and index score from `session.expiresAt` (else both are kept). */
  extendTtl?: boolean;
  /**
   * Write only if the stored session's `lastActivity` is at or before this (ms), checked in the
   * same atomic step as the write; otherwise nothing is written and the call returns `true` (the
   * session is live). Activity recording uses it so that instances racing on one session write
   * its activity once per interval between them.
   */
  ifLastActivityAtOrBefore?: number;
}

/**
 * Session store (the guide's RedisSessionStore): what the services use; the guide's other methods
 * are on `GuideSessionStore`.
 *
 * A session is live when its record exists, it is a member of its user's index, and it has not
 * expired by the store's clock. The user's index is the authority: leaving it ends the session.
 * The device index may hold members that already ended (it is filtered on read, pruned on write).
 */
export interface SessionStore {
  /**
   * Writes the session, adds it to its user's index and its device index, and enforces the cap —
   * the record, the user index and the cap check are one atomic step. Returns the ids evicted to
   * make room (oldest `createdAt` first); each create past the cap evicts exactly what it needs.
   * Rejects with `SessionLimitError` under the `deny` policy. The record's TTL is `expiresAt - now`.
   *
   * Concurrent creates and deletes for one user leave the user index equal to the live sessions.
   * @throws InvalidIdError when the session id is not of the user's slot (or any id is bad);
   *   InvalidArgumentError when `expiresAt <= now`, `expiresAt > absoluteExpiresAt`, a time is
   *   not finite, or an option is out of range. Nothing is written then.
   */
  createSession(session: Session, options?: CreateSessionOptions): Promise<CreateSessionResult>;
  /**
   * The live session exactly as stored, or `null`. Never returns an unknown, deleted, evicted or
   * expired session (at `expiresAt` or `absoluteExpiresAt` it has ended).
   */
  getSession(sessionId: string): Promise<Session | null>;
  /**
   * Replaces a live session's record; returns `true`. With `extendTtl`, the record's TTL and its index scores move to the new
   * `expiresAt`, which must be after now (else `InvalidArgumentError`) and must not pass
   * `absoluteExpiresAt`; without it the TTL and scores are kept, so the session still ends when it
   * would have, whatever the new `expiresAt` field says.
   * Never resurrects: when the session has ended (deleted, evicted, expired, or never created) —
   * also when the delete races this update — nothing is written and it returns `false`.
   */
  updateSession(session: Session, options?: UpdateSessionOptions): Promise<boolean>;
  /**
   * Ends the session: record and index memberships go together. Returns the session if it was
   * live, else `null` (a second delete returns `null`).
   */
  deleteSession(sessionId: string): Promise<Session | null>;
  /**
   * Moves a live session to `newSessionId` atomically: the old id is dead the moment the new one is
   * live; the record keeps every field but the id. Returns the moved
   * session, or `null` (nothing written) when the old one was not live. Of concurrent rotations of
   * one session, exactly one wins.
   * @throws InvalidIdError when `newSessionId` does not carry the same user tag;
   *   InvalidArgumentError when it equals the old id or is already in use.
   */
  rotateSessionId(oldSessionId: string, newSessionId: string): Promise<Session | null>;
  /**
   * The user's sessions, newest `createdAt` first; never another user's. `activeOnly` (default
   * true) returns only live sessions; with `false` it also returns expired sessions whose record
   * still exists (never deleted or evicted ones).
   */
  getUserSessions(userId: string, options?: { activeOnly?: boolean }): Promise<Session[]>;
  /**
   * Ends every session of the user (except `exceptSessionId`) atomically on the user's index.
   * Returns the sessions that were live and ended (`[]` when there were none); other users'
   * sessions are untouched.
   */
  deleteUserSessions(userId: string, options?: { exceptSessionId?: string }): Promise<Session[]>;
}

/**
 * The guide's `RedisSessionStore` in full: the port plus the guide's methods that no service
 * calls (`SessionManager.cleanupExpiredSessions` sweeps through `StoreMaintenance` instead). Both
 * backends implement it and the store factories hand it out (`GuideStores`).
 */
export interface GuideSessionStore extends SessionStore {
  /** Live sessions seen on the device (of any user), newest `createdAt` first. */
  getDeviceSessions(deviceId: string): Promise<Session[]>;
  /**
   * Prunes ended and expired members from the user and device indexes. Returns how many index
   * members were removed, counting each index (one expired session with a device counts 2); 0
   * when nothing has expired, and 0 on a second pass. Live sessions are kept.
   */
  cleanupExpiredSessions(): Promise<number>;
}

/**
 * Trusted devices. A trust record belongs to one (user, device) pair and lives until `expiresAt`
 * (TTL = trust duration); from then on `get`, `listUserDevices` and `revoke` no longer see it.
 */
export interface TrustDeviceOptions {
  /**
   * Bound on the user's trusted devices (an integer ≥ 1; default: none). Trusting a device beyond
   * it evicts the trusts that end first (never the device being trusted).
   */
  maxDevices?: number;
}

export interface TrustDeviceResult {
  /** The device as stored. */
  device: TrustedDevice;
  /** Ids of the devices whose trust was evicted to keep the bound (oldest expiry first). */
  evicted: string[];
}

export interface TrustedDeviceStore {
  /**
   * Creates or replaces the trust record of the (user, device) pair and adds it to the user's
   * device index; with `maxDevices`, evicts (record and index entry) the trusts beyond the bound
   * that end first. All of it is one atomic step.
   * @throws InvalidArgumentError when `expiresAt <= now` or `maxDevices` is not an integer ≥ 1
   *   (nothing is written).
   */
  trust(device: TrustedDevice, options?: TrustDeviceOptions): Promise<TrustDeviceResult>;
  /** The device while trusted by this user, or `null` (also for another user's device). */
  get(userId: string, deviceId: string): Promise<TrustedDevice | null>;
  /** The user's trusted devices, most recently trusted (`trustedAt`) first. */
  listUserDevices(userId: string): Promise<TrustedDevice[]>;
  /**
   * Removes trust (record and index entry together). Returns whether this user trusted the device
   * until now (`false` for an unknown, expired or another user's device).
   */
  revoke(userId: string, deviceId: string): Promise<boolean>;
}

export interface ListEventsOptions {
  /** Inclusive lower bound on `timestamp` (ms). */
  since?: number;
  /** Inclusive upper bound on `timestamp` (ms). */
  until?: number;
  /**
   * At most this many, newest first: an integer ≥ 1 (else `InvalidArgumentError`), default 50;
   * a larger limit returns at most 1000.
   */
  limit?: number;
}

/** Security audit trail. */
export interface SecurityEventStore {
  /**
   * Records an event and, when it has a user, adds it to the user's index atomically; the index
   * is pruned of expired events and trimmed to the newest `maxEventsPerUser` (default 1000), the
   * trimmed events' records deleted in the same step (on Redis, writes racing at the bound may
   * leave it a few over, each with its record, until the next write trims them). A user's event lives until its `timestamp`
   * + the retention (90 days by default), when its index entry is pruned: no record outlives its
   * index entry (one already past the retention is not kept); an event without a user lives the
   * retention from now. Fills in what is absent: a new
   * `eventId` in the user's slot (an event without a user gets an id of its own and is in no
   * user's list), `timestamp` now, `severity` `info`, `null` context and `{}` details; keeps every
   * field given.
   * @throws InvalidArgumentError for a severity other than info, warning and critical.
   */
  record(event: SecurityEventInput): Promise<SecurityEvent>;
  /** The event while retained, or `null`. */
  get(eventId: string): Promise<SecurityEvent | null>;
  /**
   * The user's events (never another user's), newest `timestamp` first, within `since`/`until`
   * (both inclusive) and `limit`. Events past the retention, or trimmed from the index by its
   * bound, are not listed.
   */
  listUserEvents(userId: string, options?: ListEventsOptions): Promise<SecurityEvent[]>;
}

export type RotateResult =
  /**
   * The presented token was current: the family moved on to `nextHash` (generation + 1).
   * `session`: the family's session as the same atomic step found it, live (`null` when a store
   * cannot say; the caller then reads it).
   */
  | { status: 'rotated'; family: RefreshFamily; session: Session | null }
  /**
   * The presented token was the one just rotated, within the grace window (inclusive: at exactly
   * `graceMs` it is still grace): the stored child again, nothing changes.
   */
  | { status: 'grace'; family: RefreshFamily; childBlob: string; session: Session | null }
  /**
   * Reuse outside the grace window: the family is now revoked (reason `token_reuse_detected`) and
   * its session ended, in the same atomic step. `sessionEnded` is the session that ended (or
   * `null` if it had already ended).
   */
  | { status: 'reused'; family: RefreshFamily; sessionEnded: Session | null }
  /** The family is revoked (explicitly, by reuse, or by the user's watermark). */
  | { status: 'revoked'; family: RefreshFamily }
  /** The family's session has ended: nothing rotated. */
  | { status: 'session_ended'; family: RefreshFamily }
  /**
   * The family exists but the presented hash is none of its tokens (current, previous or the
   * bounded history): nothing changes. A forged secret for a known family id must not be able to
   * revoke the family (family ids are visible in access tokens' `fid` claim).
   */
  | { status: 'invalid' }
  /** Unknown or expired family. */
  | { status: 'not_found' };

/** `RefreshFamilyStore.create`. */
export interface CreateFamilyInput {
  familyId: string;
  userId: string;
  sessionId: string;
  tokenHash: string;
  ttlSeconds: number;
  /** See `RefreshFamily.claims`. */
  claims?: string | null;
}

/** `RefreshFamilyStore.revokeWithToken`. */
export interface RevokeWithTokenInput {
  familyId: string;
  presentedHash: string;
  reason: string;
}

/** `RefreshFamilyStore.rotate`. */
export interface RotateFamilyInput {
  familyId: string;
  presentedHash: string;
  nextHash: string;
  childBlob: string;
  graceMs: number;
  /** The family's owner as the caller just read it (see `RefreshFamilyStore.rotate`). */
  owner?: { userId: string; sessionId: string };
}

/**
 * Refresh-token families. Only SHA-256 hashes of refresh secrets are stored. The rotation is one
 * atomic compare-and-set on the family record (with its session and the user's watermark on the
 * same slot), so concurrent presentations of one token cannot fork the family.
 */
export interface RefreshFamilyStore {
  /**
   * Creates a family whose current token hash is `tokenHash`: generation 0, not revoked,
   * `createdAt` now, `expiresAt` now + `ttlSeconds` (the refresh token's lifetime); `claims` kept
   * (and kept by every rotation).
   * @throws InvalidIdError when the family id or the session id is not of the user's slot;
   *   InvalidArgumentError for the TTL, and when a family with this id exists and has not expired
   *   — rotated, revoked or a tombstone: re-creating it would restart or un-revoke it, so it is
   *   refused and nothing changes.
   */
  create(input: CreateFamilyInput): Promise<RefreshFamily>;
  /** The family (or tombstone) until it expires, or `null`. */
  get(familyId: string): Promise<RefreshFamily | null>;
  /**
   * Revokes the family if `presentedHash` is one of its tokens (current, previous or one of the
   * last 32 rotated): a logout with a refresh token. The first reason is kept (revoking again
   * changes nothing). Returns the family as it now is, or `null` — and nothing changes — when the
   * family is unknown or expired or the hash was never one of its tokens.
   *
   * It revokes the family and nothing else: it does **not** end the family's session, touch the
   * user's watermark, or blacklist a jti. Afterwards `rotate` answers `revoked` and the family's
   * access tokens check as `family_revoked`, but a token of the same session without the family
   * still passes; ending the session is the caller's job (`JwtService.revokeRefreshToken` deletes
   * it right after).
   */
  revokeWithToken(input: RevokeWithTokenInput): Promise<RefreshFamily | null>;
  /**
   * Consumes `presentedHash`. Current → rotate to `nextHash`, keep `childBlob` for the grace window;
   * previous and within `graceMs` of the rotation → `grace` with the stored blob; any other known
   * family token (the previous one after the window, or one of the last 32 rotated hashes) →
   * revoke the family and end its session (`reused`); a hash the family never had → `invalid`.
   * Checks run in this order: not_found, invalid, revoked (flag, or the user's generation is past
   * the family's — legacy families: the watermark > createdAt), session_ended (for current/previous; also when the session merely expired), then
   * rotated / grace / reused. `graceMs` must be a finite number ≥ 0 (else `InvalidArgumentError`).
   * Of concurrent presentations of the current token, exactly one rotates; the others get `grace`
   * with that one's child.
   *
   * `owner`: the family's user and session as the caller has just read them (`get`). A store that
   * needs them to address the rotation (Redis: the script's keys on the user's slot) then skips
   * its own read. It is checked in the same atomic step: an owner that is not the family's makes
   * `rotate` answer `not_found` and change nothing.
   */
  rotate(input: RotateFamilyInput): Promise<RotateResult>;
}

/**
 * Everything `verifyToken` must know about a signed, unexpired token, read in one round trip. A
 * checker may remember what it derives from a frozen query by the object itself, so a frozen
 * query always asks the same question; a mutable one is read afresh on every check.
 */
export interface RevocationQuery {
  jti: string;
  userId: string;
  /**
   * When the token was issued, in ms: its own signed issue time (`iat_ms`). A store that listens to
   * Redis's broadcast may answer a first check from what it heard since then (nothing revokes a
   * token, nor a family of it, before it was minted: the JWT service's ordering), so a later time
   * than the real one must not be given.
   */
  issuedAtMs: number;
  /**
   * The user's generation the token was minted under (`ugen` claim). When given, `user_revoked`
   * means the user's generation is past it; when absent (a token minted before generations
   * existed), the legacy watermark is compared with `issuedAtMs`.
   */
  userGeneration?: number | undefined;
  familyId?: string | undefined;
  sessionId?: string | undefined;
  /**
   * When the token expires, in ms. Optional; a store that keeps answers in process keeps none
   * past it.
   */
  expiresAtMs?: number | undefined;
}

/** Read-only view used on every token verification. */
export interface RevocationChecker {
  /**
   * The first reason the token is revoked, or `null` when it is not. In this order:
   * `blacklisted` (its jti has a live entry), `user_revoked` (minted under a generation older than
   * the user's, or without one strictly before the user's legacy watermark), `family_revoked` (the family is revoked, or unknown or expired), `session_ended`
   * (the session is not live: unknown, deleted, evicted or expired). Without `familyId` or
   * `sessionId` those checks are skipped.
   */
  check(query: RevocationQuery): Promise<RevocationReason | null>;
}

export interface StoreStats {
  sessions: number;
  blacklistEntries: number;
  families: number;
  revokedFamilies: number;
  trustedDevices: number;
  securityEvents: number;
}

export interface CleanupStats {
  sessionIndexEntries: number;
  deviceIndexEntries: number;
  blacklistIndexEntries: number;
  trustedDeviceIndexEntries: number;
  securityEventIndexEntries: number;
  scanned: number;
  durationMs: number;
  /**
   * Set when this call looked at nothing (all counts 0): another process held the cleanup lock, or
   * (with `notWithinMs`) a round had started less than that long ago; `skippedBecause` says which.
   */
  skipped?: true;
  skippedBecause?: 'lock_held' | 'not_due';
}

/** Options of `StoreMaintenance.cleanup`. */
export interface CleanupRunOptions {
  /**
   * Runs only if no round (of any process on this store) was started in the last `notWithinMs`
   * milliseconds; claimed atomically (Redis: `SET NX PX` on the schedule key), so a fleet sharing
   * one store sweeps once per interval. Absent: no such check.
   */
  notWithinMs?: number;
}

/** Operator work over the whole store: bounded `SCAN`s, never `KEYS`. */
export interface StoreMaintenance {
  /**
   * Counts live records by kind (walks the keyspace in bounded steps): all zero on an empty store.
   * `families` and `revokedFamilies` include tombstones; `securityEvents` includes events without
   * a user. On Redis a record counts until Redis's own TTL removes it. `onProgress` is called after
   * each bounded step with the number of keys looked at so far.
   */
  stats(onProgress?: (scanned: number) => void): Promise<StoreStats>;
  /**
   * Prunes expired and dangling members from every index and returns how many it removed from
   * each kind of index (all 0 when nothing has expired, and on a second pass), how many keys it
   * looked at and how long it took. Live entries are kept. `onProgress` is called at least once,
   * after each bounded step, with the number of keys looked at so far (never decreasing) and the
   * total when known (else `null`). One round at a time per store: a call made while another
   * round holds the cleanup lock returns at once with `skipped` (`lock_held`), as does one refused
   * by `options.notWithinMs` (`not_due`). The whole round (every index) runs under the lock.
   */
  cleanup(
    onProgress?: (scanned: number, total: number | null) => void,
    options?: CleanupRunOptions,
  ): Promise<CleanupStats>;
}

/** `HandoffStore.put`. */
export interface HandoffPutInput {
  codeHash: string;
  payload: string;
  ttlSeconds: number;
}

/**
 * One-time hand-off codes of browser mode (`POST /v1/sessions` with `transport: "browser"`): what
 * a code stands for, kept under the code's SHA-256 hash (never the code) until it expires or is
 * taken. A code is single-use: `take` is the one read, and it deletes.
 */
export interface HandoffStore {
  /**
   * Keeps `payload` under `codeHash` until now + `ttlSeconds`. Single key, one write.
   * @throws InvalidIdError when `codeHash` is not 16 to 128 base64url characters;
   *   InvalidArgumentError for the TTL, or when the hash is already stored (nothing changes).
   */
  put(input: HandoffPutInput): Promise<void>;
  /**
   * Returns the payload and deletes it in one atomic step: of concurrent takes of one hash exactly
   * one gets the payload, the others (and every later take) get `null`. `null` too for an unknown
   * or expired hash (expired by the store's clock).
   * @throws InvalidIdError when `codeHash` is malformed.
   */
  take(codeHash: string): Promise<string | null>;
}

/**
 * Fixed-window request counters of the HTTP service's rate limits. On Redis every instance shares
 * them; in memory they are this process's.
 */
export interface RateLimitStore {
  /**
   * Adds `count` requests to `bucket`'s current window and returns the count after them and the
   * milliseconds left in the window. A window starts with the first request after the previous one
   * ended and lasts `windowMs` (on Redis by Redis's clock: the counter's `PX`; in memory by the
   * stores' clock). Atomic: concurrent increments (of any number of processes sharing
   * the store) are each counted exactly once.
   * @throws InvalidIdError when `bucket` is not 1 to 128 characters of `[A-Za-z0-9._-]`;
   *   InvalidArgumentError when `windowMs` or `count` is not a whole number ≥ 1.
   */
  increment(bucket: string, windowMs: number, count: number): Promise<{ total: number; ttlMs: number }>;
}

/**
 * The operator overview's per-minute activity buckets (`core/activity.ts`): counters each HTTP
 * instance adds its growth to, and a live-session gauge sampled once a minute. On Redis every
 * instance shares them; in memory they are this process's. A bucket is kept
 * `ACTIVITY_RETENTION_MS` (2 h) after its last write (on Redis by Redis's clock; in memory
 * relative to the newest minute written), then forgotten.
 */
export interface ActivityBucketStore {
  /**
   * Adds `deltas` to the minute's counters (absent or 0: unchanged) in one atomic step: concurrent
   * adds (of any number of processes sharing the store) are each counted exactly once.
   * @throws InvalidIdError when `minuteMs` is not the start of a minute (whole ms ≥ 0);
   *   InvalidArgumentError when a delta is not a whole number.
   */
  add(minuteMs: number, deltas: Partial<ActivityCounts>): Promise<void>;
  /**
   * `true` for the first caller of the minute, across every process sharing the store (an atomic
   * set-if-absent), `false` for every later one: the winner takes the minute's sample.
   * @throws InvalidIdError for a malformed `minuteMs`.
   */
  claimSample(minuteMs: number): Promise<boolean>;
  /**
   * Stores the minute's live-session sample (replacing one already there).
   * @throws InvalidIdError for a malformed `minuteMs`; InvalidArgumentError unless `sessions` is a
   *   whole number ≥ 0.
   */
  setSample(minuteMs: number, sessions: number): Promise<void>;
  /**
   * The figures of each minute, in the order given: zeros and `sessions: null` where nothing is
   * stored. Each minute is read in one step (its counters are consistent with each other).
   * @throws InvalidIdError for a malformed minute (nothing is read).
   */
  read(minutes: readonly number[]): Promise<MinuteFigures[]>;
}

/** What `createRedisStores` and `createMemoryStores` return. */
export interface Stores {
  /** How this deployment makes and reads generated ids (sealed tags; see `IdCodec`). */
  readonly ids: IdCodec;
  tokenBlacklist: TokenBlacklist;
  sessionStore: SessionStore;
  trustedDevices: TrustedDeviceStore;
  securityEvents: SecurityEventStore;
  refreshFamilies: RefreshFamilyStore;
  revocation: RevocationChecker;
  maintenance: StoreMaintenance;
  handoffs: HandoffStore;
  rateLimits: RateLimitStore;
  activity: ActivityBucketStore;
}

/**
 * What `createRedisStores` and `createMemoryStores` return: `Stores` whose token blacklist and
 * session store also carry the guide's methods no service calls (`GuideTokenBlacklist`,
 * `GuideSessionStore`). Pass it wherever `Stores` is expected.
 */
export interface GuideStores extends Stores {
  tokenBlacklist: GuideTokenBlacklist;
  sessionStore: GuideSessionStore;
}
