import { InvalidArgumentError, SessionLimitError } from '../../core/errors.js';
import { DEFAULT_SESSION_LIMIT_POLICY } from '../../core/limits.js';
import type {
  CreateSessionOptions,
  CreateSessionResult,
  GuideSessionStore,
  UpdateSessionOptions,
} from '../../core/ports.js';
import { isSessionExpired, type Session } from '../../core/types.js';
import { recordEvent } from './security-events.js';
import { byCreatedAtDesc, copySession, indexAdd, indexRemove, type MemoryState } from './state.js';
import { deviceKey } from './trusted-devices.js';

/** Oldest first by `createdAt`, then by id. */
function byCreatedAtAsc(a: Session, b: Session): number {
  return -byCreatedAtDesc(a, b);
}

/**
 * In-memory `SessionStore`. The user index is the authority on which sessions are live. Arguments
 * are checked by `CheckedSessionStore` (`core/checked/`) before they get here.
 */
export class MemorySessionStore implements GuideSessionStore {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async createSession(session: Session, options: CreateSessionOptions = {}): Promise<CreateSessionResult> {
    const state = this.#state;
    const now = state.now();

    // Prune on write, then count what is left: every remaining member is live.
    state.pruneUserSessions(session.userId, now);
    const live: Session[] = [];
    for (const sessionId of state.userSessions.get(session.userId)?.keys() ?? []) {
      if (sessionId === session.sessionId) continue; // re-creating an id replaces it
      const other = state.liveSession(sessionId, now);
      if (other !== null) live.push(other);
    }

    const seen = session.deviceId !== null && live.some((other) => other.deviceId === session.deviceId);
    const deviceSeen = options.reportDeviceSeen === true && session.deviceId !== null ? seen : undefined;
    const evicted: string[] = [];
    if (options.maxSessions !== undefined && live.length >= options.maxSessions) {
      if ((options.onLimit ?? DEFAULT_SESSION_LIMIT_POLICY) === 'deny') {
        throw new SessionLimitError(session.userId, options.maxSessions);
      }
      live.sort(byCreatedAtAsc);
      for (const old of live.slice(0, live.length - options.maxSessions + 1)) {
        state.endSession(old.sessionId, now);
        evicted.push(old.sessionId);
      }
    }

    state.endSession(session.sessionId, now);
    if (session.deviceId !== null) state.pruneDeviceSessions(session.deviceId, now);
    state.sessions.set(session.sessionId, { value: copySession(session), expiresAt: session.expiresAt });
    indexAdd(state.userSessions, session.userId, session.sessionId, session.expiresAt);
    if (session.deviceId !== null) {
      indexAdd(state.deviceSessions, session.deviceId, session.sessionId, session.expiresAt);
    }
    // The refresh families of the sessions evicted here go too.
    if (evicted.length > 0) state.dropEndedFamilies(session.userId, now);
    // The login's events, in the same step (the Redis store writes them in its create script).
    const events = options.events;
    if (events !== undefined) {
      recordEvent(state, { ...events.created, userId: session.userId });
      const device = session.deviceId;
      if (
        events.newDevice !== undefined &&
        device !== null &&
        !seen &&
        state.read(state.trustedDevices, deviceKey(session.userId, device), now) === undefined
      ) {
        recordEvent(state, { ...events.newDevice, userId: session.userId });
      }
    }
    return deviceSeen === undefined ? { evicted } : { evicted, deviceSeen };
  }

  async getSession(sessionId: string): Promise<Session | null> {
    const session = this.#state.liveSession(sessionId);
    return session === null ? null : copySession(session);
  }

  async updateSession(session: Session, options: UpdateSessionOptions = {}): Promise<boolean> {
    const ifBefore = options.ifLastActivityAtOrBefore;
    const state = this.#state;
    const now = state.now();
    const stored = state.liveSession(session.sessionId, now);
    // Never resurrects: an ended or expired session stays ended.
    if (stored === null) return false;
    if (stored.userId !== session.userId) {
      throw new InvalidArgumentError('session.userId', 'does not match the stored session');
    }
    const extend = options.extendTtl === true;
    // Live, but its activity was written more recently than asked: nothing to change.
    if (ifBefore !== undefined && stored.lastActivity > ifBefore) return true;
    const record = state.sessions.get(session.sessionId)!;
    const score = state.userSessions.get(session.userId)!.get(session.sessionId)!;
    const expiresAt = extend ? session.expiresAt : record.expiresAt;
    const newScore = extend ? session.expiresAt : score;

    state.sessions.set(session.sessionId, { value: copySession(session), expiresAt });
    indexAdd(state.userSessions, session.userId, session.sessionId, newScore);
    if (stored.deviceId !== null && stored.deviceId !== session.deviceId) {
      indexRemove(state.deviceSessions, stored.deviceId, session.sessionId);
    }
    if (session.deviceId !== null)
      indexAdd(state.deviceSessions, session.deviceId, session.sessionId, newScore);
    return true;
  }

  async deleteSession(sessionId: string): Promise<Session | null> {
    const state = this.#state;
    const now = state.now();
    const live = state.liveSession(sessionId, now);
    const ended = state.endSession(sessionId, now);
    // The session's refresh families go with it (and any other ended session's).
    if (ended !== null) state.dropEndedFamilies(ended.userId, now);
    return live === null ? null : copySession(live);
  }

  async rotateSessionId(oldSessionId: string, newSessionId: string): Promise<Session | null> {
    const state = this.#state;
    const now = state.now();
    const live = state.liveSession(oldSessionId, now);
    if (live === null) return null;
    if (state.read(state.sessions, newSessionId, now) !== undefined) {
      throw new InvalidArgumentError('newSessionId', 'is already in use');
    }
    const record = state.sessions.get(oldSessionId)!;
    const score = state.userSessions.get(live.userId)!.get(oldSessionId)!;
    const moved: Session = { ...live, sessionId: newSessionId };

    state.sessions.delete(oldSessionId);
    indexRemove(state.userSessions, live.userId, oldSessionId);
    if (live.deviceId !== null) indexRemove(state.deviceSessions, live.deviceId, oldSessionId);
    state.sessions.set(newSessionId, { value: moved, expiresAt: record.expiresAt });
    indexAdd(state.userSessions, live.userId, newSessionId, score);
    if (live.deviceId !== null) indexAdd(state.deviceSessions, live.deviceId, newSessionId, score);
    // The old id has ended: the families it refreshed go (a refresh token names its session).
    state.dropEndedFamilies(live.userId, now);
    return copySession(moved);
  }

  async getUserSessions(userId: string, options: { activeOnly?: boolean } = {}): Promise<Session[]> {
    const state = this.#state;
    const now = state.now();
    const activeOnly = options.activeOnly ?? true;
    const sessions: Session[] = [];
    // Filtered on read; the index itself is pruned on write and by cleanup.
    for (const sessionId of state.userSessions.get(userId)?.keys() ?? []) {
      const session = state.read(state.sessions, sessionId, now);
      if (session === undefined) continue;
      if (activeOnly && isSessionExpired(session, now)) continue;
      sessions.push(copySession(session));
    }
    return sessions.sort(byCreatedAtDesc);
  }

  async deleteUserSessions(userId: string, options: { exceptSessionId?: string } = {}): Promise<Session[]> {
    const except = options.exceptSessionId;
    const state = this.#state;
    const now = state.now();
    const ended: Session[] = [];
    for (const sessionId of [...(state.userSessions.get(userId)?.keys() ?? [])]) {
      if (sessionId === except) continue;
      const live = state.liveSession(sessionId, now);
      if (live !== null) ended.push(copySession(live));
      state.endSession(sessionId, now);
      // A member without a record has nothing for endSession to find: drop it from the index.
      indexRemove(state.userSessions, userId, sessionId);
    }
    state.dropEndedFamilies(userId, now);
    return ended.sort(byCreatedAtDesc);
  }

  async getDeviceSessions(deviceId: string): Promise<Session[]> {
    const state = this.#state;
    const now = state.now();
    const sessions: Session[] = [];
    for (const sessionId of state.deviceSessions.get(deviceId)?.keys() ?? []) {
      const live = state.liveSession(sessionId, now);
      if (live !== null) sessions.push(copySession(live));
    }
    return sessions.sort(byCreatedAtDesc);
  }

  async cleanupExpiredSessions(): Promise<number> {
    const { userIndexEntries, deviceIndexEntries } = cleanupSessionIndexes(this.#state);
    return userIndexEntries + deviceIndexEntries;
  }
}

/**
 * Prunes every user and device index of members that are no longer live and drops expired session
 * records. Returns the members removed from each kind of index and the members looked at.
 */
export function cleanupSessionIndexes(state: MemoryState): {
  userIndexEntries: number;
  deviceIndexEntries: number;
  scanned: number;
} {
  const now = state.now();
  let scanned = 0;
  let userIndexEntries = 0;
  let deviceIndexEntries = 0;
  // User indexes first: the device pass asks whether a member is still in its user's index.
  for (const [userId, index] of [...state.userSessions]) {
    scanned += index.size;
    const pruned = state.pruneUserSessions(userId, now);
    userIndexEntries += pruned;
    // The refresh families of the sessions pruned here go too.
    if (pruned > 0) state.dropEndedFamilies(userId, now);
  }
  for (const [deviceId, index] of [...state.deviceSessions]) {
    scanned += index.size;
    deviceIndexEntries += state.pruneDeviceSessions(deviceId, now);
  }
  for (const sessionId of [...state.sessions.keys()]) state.read(state.sessions, sessionId, now);
  return { userIndexEntries, deviceIndexEntries, scanned };
}
