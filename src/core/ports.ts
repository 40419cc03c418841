/**
 * Storage ports. Each is implemented twice, mirrored file for file: `src/stores/memory/` and
 * `src/stores/redis/`. Both are held to the text below by one contract suite per port
 * (`test/contract/`). "Atomic" here means: no other operation, from this process or another,
 * observes a state between the steps, and a crash leaves either all of it or none of it.
 *
 * All ids are validated (`assertId` / `parseUserScopedId`) before any I/O: a bad id rejects with
 * `InvalidIdError` and never reaches Redis. Store failures reject with `StoreUnavailableError`.
 */
import type { RevocationReason } from './errors.js';
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
  /** How long the entry lives; use the token's remaining lifetime. Must be > 0. */
  ttlSeconds: number;
  userId?: string | null;
  reason: string;
}

/** Token blacklist (the guide's RedisTokenBlacklist), token families and the per-user watermark. */
export interface TokenBlacklist {
  /** Records a revoked access token. The entry expires after `ttlSeconds`. */
  blacklistToken(input: BlacklistTokenInput): Promise<void>;
  isBlacklisted(jti: string): Promise<boolean>;
  /** The entry's metadata, or `null` when the jti is not (or no longer) blacklisted. */
  getEntry(jti: string): Promise<BlacklistEntry | null>;
  /** Blacklists every listed jti (the guide's list form); returns how many were written. */
  blacklistAllUserTokens(input: {
    userId: string;
    tokenJtis: readonly string[];
    ttlSeconds: number;
    reason: string;
  }): Promise<number>;
  /**
   * Marks a refresh-token family revoked for `ttlSeconds` (creating a tombstone if the family is
   * unknown), so that every refresh and access token of the family is rejected.
   */
  blacklistTokenFamily(input: { familyId: string; ttlSeconds: number; reason: string }): Promise<void>;
  isFamilyRevoked(familyId: string): Promise<boolean>;
  /**
   * Revokes, in O(1), every token of the user issued before `beforeMs` (a "revoked before"
   * watermark). The watermark only moves forward; it lives `ttlSeconds` (the longest token life).
   */
  revokeUserTokensBefore(input: { userId: string; beforeMs: number; ttlSeconds: number }): Promise<void>;
  /** The user's watermark in ms, or `null`. */
  getUserWatermark(userId: string): Promise<number | null>;
  /** Removes expired entries from indexes (Redis expires the entries themselves); returns the count. */
  cleanupExpired(): Promise<number>;
}

/** What to do when a user already has `maxSessions` live sessions. */
export type SessionLimitPolicy = 'evict-oldest' | 'deny';

export interface CreateSessionOptions {
  /** Cap on live sessions for the user; unlimited when absent. Enforced atomically. */
  maxSessions?: number;
  /** Default `evict-oldest`. With `deny`, a create at the cap rejects with `SessionLimitError`. */
  onLimit?: SessionLimitPolicy;
}

/**
 * Session store (the guide's RedisSessionStore).
 *
 * A session is live when its record exists, it is a member of its user's index, and it has not
 * expired by the store's clock. The user's index is the authority: leaving it ends the session.
 * The device index may hold members that already ended (it is filtered on read, pruned on write).
 */
export interface SessionStore {
  /**
   * Writes the session, adds it to its user's index and its device index, and enforces the cap —
   * the record, the user index and the cap check are one atomic step. Returns the ids evicted to
   * make room (oldest first). Rejects with `SessionLimitError` under the `deny` policy.
   * The record's TTL is `expiresAt - now`.
   */
  createSession(session: Session, options?: CreateSessionOptions): Promise<{ evicted: string[] }>;
  /** The live session, or `null`. Never returns an expired or ended session. */
  getSession(sessionId: string): Promise<Session | null>;
  /**
   * Replaces a live session's record. With `extendTtl`, the record's TTL and its index scores move
   * to the new `expiresAt` (which must not pass `absoluteExpiresAt`); without it the TTL is kept.
   * Never resurrects: when the session has ended, nothing is written and it returns `false`.
   */
  updateSession(session: Session, options?: { extendTtl?: boolean }): Promise<boolean>;
  /** Ends the session: record and index memberships go together. Returns what was deleted, or `null`. */
  deleteSession(sessionId: string): Promise<Session | null>;
  /**
   * Moves a live session to `newSessionId` (same user tag) atomically: the old id is dead the moment
   * the new one is live. Returns the moved session, or `null` when the old one was not live.
   */
  rotateSessionId(oldSessionId: string, newSessionId: string): Promise<Session | null>;
  /** The user's sessions, newest first. `activeOnly` (default true) drops expired ones. */
  getUserSessions(userId: string, options?: { activeOnly?: boolean }): Promise<Session[]>;
  /**
   * Ends every session of the user (except `exceptSessionId`) atomically on the user's index.
   * Returns the ended sessions.
   */
  deleteUserSessions(userId: string, options?: { exceptSessionId?: string }): Promise<Session[]>;
  /** Live sessions seen on the device, newest first. */
  getDeviceSessions(deviceId: string): Promise<Session[]>;
  /** Prunes ended and expired members from indexes; returns how many were removed. */
  cleanupExpiredSessions(): Promise<number>;
}

/** Trusted devices. A device record lives until `expiresAt` (TTL = trust duration). */
export interface TrustedDeviceStore {
  /** Creates or replaces the trust record and adds it to the user's device index, atomically. */
  trust(device: TrustedDevice): Promise<TrustedDevice>;
  /** The device while trusted, or `null`. */
  get(userId: string, deviceId: string): Promise<TrustedDevice | null>;
  /** The user's trusted devices, most recently trusted first. */
  listUserDevices(userId: string): Promise<TrustedDevice[]>;
  /** Removes trust (record and index entry together). Returns whether it was trusted. */
  revoke(userId: string, deviceId: string): Promise<boolean>;
}

export interface ListEventsOptions {
  /** Inclusive lower bound on `timestamp` (ms). */
  since?: number;
  /** Inclusive upper bound on `timestamp` (ms). */
  until?: number;
  /** At most this many, newest first (default 50, max 1000). */
  limit?: number;
}

/** Security audit trail. */
export interface SecurityEventStore {
  /**
   * Records an event (TTL: the retention, 90 days by default) and, when it has a user, adds it to
   * the user's index atomically; the index is pruned of expired events and trimmed to its bound.
   */
  record(event: SecurityEventInput): Promise<SecurityEvent>;
  get(eventId: string): Promise<SecurityEvent | null>;
  /** The user's events, newest first, within `since`/`until`. */
  listUserEvents(userId: string, options?: ListEventsOptions): Promise<SecurityEvent[]>;
}

export type RotateResult =
  /** The presented token was current: the family moved on to `nextHash`. */
  | { status: 'rotated'; family: RefreshFamily }
  /** The presented token was the one just rotated, within the grace window: same child again. */
  | { status: 'grace'; family: RefreshFamily; childBlob: string }
  /**
   * Reuse outside the grace window: the family is now revoked and its session ended, in the same
   * atomic step. `sessionEnded` is the session that ended (or `null` if it had already ended).
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

/**
 * Refresh-token families. Only SHA-256 hashes of refresh secrets are stored. The rotation is one
 * atomic compare-and-set on the family record (with its session and the user's watermark on the
 * same slot), so concurrent presentations of one token cannot fork the family.
 */
export interface RefreshFamilyStore {
  /** Creates a family whose current token hash is `tokenHash`. TTL = the refresh token's lifetime. */
  create(input: {
    familyId: string;
    userId: string;
    sessionId: string;
    tokenHash: string;
    ttlSeconds: number;
    /** See `RefreshFamily.claims`. */
    claims?: string | null;
  }): Promise<RefreshFamily>;
  get(familyId: string): Promise<RefreshFamily | null>;
  /**
   * Revokes the family (reason kept) if `presentedHash` is one of its tokens (current, previous or
   * history). Returns the family as it now is, or `null` when unknown or the hash does not match.
   */
  revokeWithToken(input: {
    familyId: string;
    presentedHash: string;
    reason: string;
  }): Promise<RefreshFamily | null>;
  /**
   * Consumes `presentedHash`. Current → rotate to `nextHash`, keep `childBlob` for the grace window;
   * previous and within `graceMs` of the rotation → `grace` with the stored blob; any other known
   * family token (the previous one after the window, or one of the last 32 rotated hashes) →
   * revoke the family and end its session (`reused`); a hash the family never had → `invalid`.
   * Checks run in this order: not_found, revoked (flag or the user's watermark > createdAt),
   * invalid, session_ended (for current/previous), then rotated / grace / reused.
   */
  rotate(input: {
    familyId: string;
    presentedHash: string;
    nextHash: string;
    childBlob: string;
    graceMs: number;
  }): Promise<RotateResult>;
}

/** Everything `verifyToken` must know about a signed, unexpired token, read in one round trip. */
export interface RevocationQuery {
  jti: string;
  userId: string;
  /** When the token was issued, in ms. */
  issuedAtMs: number;
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
  /** The first reason the token is revoked, or `null` when it is not. */
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
}

/** Operator work over the whole store: bounded `SCAN`s, never `KEYS`. */
export interface StoreMaintenance {
  /** Counts live records by family (walks the keyspace in bounded steps). */
  stats(): Promise<StoreStats>;
  /**
   * Prunes expired and dangling members from every index. `onProgress` is called after each
   * bounded step with the number of keys looked at so far (and the total, when known).
   */
  cleanup(onProgress?: (scanned: number, total: number | null) => void): Promise<CleanupStats>;
}

/** What `createRedisStores` and `createMemoryStores` return. */
export interface Stores {
  tokenBlacklist: TokenBlacklist;
  sessionStore: SessionStore;
  trustedDevices: TrustedDeviceStore;
  securityEvents: SecurityEventStore;
  refreshFamilies: RefreshFamilyStore;
  revocation: RevocationChecker;
  maintenance: StoreMaintenance;
}
