/**
 * The state every memory store shares. It mirrors the Redis data model (see `../redis/keys.ts`):
 * records that expire, and separate indexes (user → sessions, device → sessions, …) scored like
 * the Redis sorted sets. Indexes are pruned on write and by cleanup, and filtered on read, exactly
 * as on Redis, so both backends report the same cleanup counts.
 *
 * Expiry is lazy: a record whose `expiresAt` is at or before `clock.now()` is treated as absent and
 * removed when it is touched. A `ManualClock` therefore expires things in tests without sleeping.
 *
 * Atomicity: every store method reads and writes this state synchronously, with no `await`
 * between the read and the write of one operation, so no other operation can observe a step in
 * between.
 */
import type { Clock } from '../../core/clock.js';
import type { IdCodec } from '../../core/ids.js';
import {
  type BlacklistEntry,
  isSessionExpired,
  type RefreshFamily,
  type SecurityEvent,
  type Session,
  type TrustedDevice,
} from '../../core/types.js';

/** A value that stops existing at `expiresAt` (ms), like a Redis key with a TTL. */
export interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** A refresh family and the rotation state only the store sees (hashes, never secrets). */
export interface FamilyRecord {
  family: RefreshFamily;
  currentHash: string | null;
  previousHash: string | null;
  rotatedAt: number | null;
  childBlob: string | null;
  /** The last `FAMILY_HISTORY` consumed (rotated) hashes, oldest first; includes `previousHash`. */
  history: string[];
}

/** How many consumed hashes a family remembers to tell reuse from a forged secret. */
export const FAMILY_HISTORY = 32;

/** member → score, like a Redis sorted set. */
export type Index = Map<string, number>;

export class MemoryState {
  readonly clock: Clock;
  /** Makes and reads generated ids (`Stores.ids`). */
  readonly ids: IdCodec;
  /** Retention of security events, in ms. */
  readonly eventRetentionMs: number;
  /** Bound of each user's security event index. */
  readonly maxEventsPerUser: number;

  /** jti → entry (record TTL: the entry's `expiresAt`). */
  readonly blacklist = new Map<string, Expiring<BlacklistEntry>>();
  /** jti → expiry ms: every blacklist entry, for stats and cleanup. */
  readonly blacklistIndex: Index = new Map();
  /** familyId → family record (TTL: the family's `expiresAt`). */
  readonly families = new Map<string, Expiring<FamilyRecord>>();
  /** familyId → expiry ms of revoked families. */
  readonly revokedFamilies: Index = new Map();
  /** userId → (familyId → sessionId): the user's families, to delete those of ended sessions. */
  readonly userFamilies = new Map<string, Map<string, string>>();
  /**
   * userId → the user's revoke-all record: `gen`, the user's generation (docs/data-model.md, "User
   * generation"), and `beforeMs`, the legacy "revoked before" watermark in ms.
   */
  readonly watermarks = new Map<string, Expiring<{ beforeMs: number; gen: number }>>();

  /** sessionId → session (record TTL: `expiresAt` at the last write that set the TTL). */
  readonly sessions = new Map<string, Expiring<Session>>();
  /** userId → (sessionId → expiresAt). The authority on which sessions are live. */
  readonly userSessions = new Map<string, Index>();
  /** deviceId → (sessionId → expiresAt). May hold ended members. */
  readonly deviceSessions = new Map<string, Index>();

  /** `userId NUL deviceId` → trusted device (TTL: the device's `expiresAt`). */
  readonly trustedDevices = new Map<string, Expiring<TrustedDevice>>();
  /** userId → (deviceId → expiresAt). */
  readonly userTrustedDevices = new Map<string, Index>();

  /** eventId → event (TTL: the retention, counted from when it was recorded). */
  readonly securityEvents = new Map<string, Expiring<SecurityEvent>>();
  /** userId → (eventId → timestamp). Trimmed to `maxEventsPerUser`. */
  readonly userSecurityEvents = new Map<string, Index>();

  constructor(options: { clock: Clock; ids: IdCodec; eventRetentionMs: number; maxEventsPerUser: number }) {
    this.clock = options.clock;
    this.ids = options.ids;
    this.eventRetentionMs = options.eventRetentionMs;
    this.maxEventsPerUser = options.maxEventsPerUser;
  }

  now(): number {
    return this.clock.now();
  }

  /** The unexpired record under `key`, removing it when it has expired. */
  read<V>(map: Map<string, Expiring<V>>, key: string, now = this.now()): V | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** The session if it is live: its record exists, its user's index holds it, it has not expired. */
  liveSession(sessionId: string, now = this.now()): Session | null {
    const session = this.read(this.sessions, sessionId, now);
    if (session === undefined) return null;
    if (!this.userSessions.get(session.userId)?.has(sessionId)) return null;
    if (isSessionExpired(session, now)) return null;
    return session;
  }

  /**
   * Ends a session: its record and its index memberships go together. Returns the record that
   * was removed (live or not), or `null` when there was none.
   */
  endSession(sessionId: string, now = this.now()): Session | null {
    const session = this.read(this.sessions, sessionId, now) ?? null;
    this.sessions.delete(sessionId);
    if (session !== null) {
      indexRemove(this.userSessions, session.userId, sessionId);
      if (session.deviceId !== null) indexRemove(this.deviceSessions, session.deviceId, sessionId);
    }
    return session;
  }

  /**
   * Removes from the user's index every member that is not live (ended, expired, or without a
   * record). Returns how many were removed.
   */
  pruneUserSessions(userId: string, now = this.now()): number {
    const index = this.userSessions.get(userId);
    if (index === undefined) return 0;
    let removed = 0;
    for (const [sessionId, score] of index) {
      const session = this.read(this.sessions, sessionId, now);
      if (score <= now || session === undefined || isSessionExpired(session, now)) {
        index.delete(sessionId);
        removed++;
      }
    }
    if (index.size === 0) this.userSessions.delete(userId);
    return removed;
  }

  /**
   * Deletes the refresh families of the user's sessions that are no longer live (not in the user's
   * index with a future score), except `keep`, as `family_drop.lua` does. Returns how many.
   */
  dropEndedFamilies(userId: string, now = this.now(), keep?: string): number {
    const families = this.userFamilies.get(userId);
    if (families === undefined) return 0;
    const index = this.userSessions.get(userId);
    let dropped = 0;
    for (const [familyId, sessionId] of families) {
      if (familyId === keep) continue;
      const score = index?.get(sessionId);
      if (score !== undefined && score > now) continue;
      if (this.read(this.families, familyId, now) !== undefined) dropped++;
      this.families.delete(familyId);
      this.revokedFamilies.delete(familyId);
      families.delete(familyId);
    }
    if (families.size === 0) this.userFamilies.delete(userId);
    return dropped;
  }

  /** Removes from the device index every member that is no longer live. */
  pruneDeviceSessions(deviceId: string, now = this.now()): number {
    const index = this.deviceSessions.get(deviceId);
    if (index === undefined) return 0;
    let removed = 0;
    for (const [sessionId, score] of index) {
      if (score <= now || this.liveSession(sessionId, now) === null) {
        index.delete(sessionId);
        removed++;
      }
    }
    if (index.size === 0) this.deviceSessions.delete(deviceId);
    return removed;
  }

  /** The user's "revoked before" watermark, or `null`. */
  watermark(userId: string, now = this.now()): number | null {
    return this.read(this.watermarks, userId, now)?.beforeMs ?? null;
  }

  /** The user's generation: 0 until the first revoke-all (and again once its record expired). */
  userGeneration(userId: string, now = this.now()): number {
    return this.read(this.watermarks, userId, now)?.gen ?? 0;
  }
}

/** Adds (or re-scores) `member` in the index stored under `key`. */
export function indexAdd(indexes: Map<string, Index>, key: string, member: string, score: number): void {
  let index = indexes.get(key);
  if (index === undefined) {
    index = new Map();
    indexes.set(key, index);
  }
  index.set(member, score);
}

/** Removes `member` from the index under `key`, dropping the index when it becomes empty. */
export function indexRemove(indexes: Map<string, Index>, key: string, member: string): boolean {
  const index = indexes.get(key);
  if (index === undefined) return false;
  const removed = index.delete(member);
  if (index.size === 0) indexes.delete(key);
  return removed;
}

/** Copies a session so callers never hold a reference into the store. */
export function copySession(session: Session): Session {
  return { ...session };
}

/** Copies a family so callers never hold a reference into the store. */
export function copyFamily(family: RefreshFamily): RefreshFamily {
  return { ...family };
}

/** Newest first by `createdAt`, then by id so equal timestamps have a stable order. */
export function byCreatedAtDesc(a: Session, b: Session): number {
  return b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0);
}
