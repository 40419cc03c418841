import { InvalidArgumentError, InvalidIdError, SessionLimitError } from '../../core/errors.js';
import { assertId, assertUserId, type IdCodec } from '../../core/ids.js';
import type {
  CreateSessionOptions,
  CreateSessionResult,
  SessionLimitPolicy,
  SessionStore,
  UpdateSessionOptions,
} from '../../core/ports.js';
import { isSessionExpired, type Session } from '../../core/types.js';
import { byCreatedAtDesc, copySession, indexAdd, indexRemove, type MemoryState } from './state.js';
import { assertFiniteNumber, assertUserScoped } from '../../core/validate.js';

const POLICIES: readonly SessionLimitPolicy[] = ['evict-oldest', 'deny'];

/** Checks everything about a session that would reach a key or a TTL. */
function assertSession(ids: IdCodec, session: Session): void {
  ids.parse('sessionId', session.sessionId);
  assertUserId(session.userId);
  assertUserScoped(ids, 'sessionId', session.sessionId, session.userId);
  if (session.deviceId !== null) assertId('deviceId', session.deviceId);
  assertFiniteNumber('session.createdAt', session.createdAt);
  assertFiniteNumber('session.expiresAt', session.expiresAt);
  assertFiniteNumber('session.absoluteExpiresAt', session.absoluteExpiresAt);
  if (session.expiresAt > session.absoluteExpiresAt) {
    throw new InvalidArgumentError('session.expiresAt', 'must not pass absoluteExpiresAt');
  }
}

function assertLimitOptions(options: CreateSessionOptions): void {
  const { maxSessions, onLimit } = options;
  if (maxSessions !== undefined && (!Number.isSafeInteger(maxSessions) || maxSessions < 1)) {
    throw new InvalidArgumentError('maxSessions', 'must be an integer of at least 1');
  }
  if (onLimit !== undefined && !POLICIES.includes(onLimit)) {
    throw new InvalidArgumentError('onLimit', `must be one of ${POLICIES.join(', ')}`);
  }
}

/** Oldest first by `createdAt`, then by id. */
function byCreatedAtAsc(a: Session, b: Session): number {
  return -byCreatedAtDesc(a, b);
}

/** In-memory `SessionStore`. The user index is the authority on which sessions are live. */
export class MemorySessionStore implements SessionStore {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async createSession(session: Session, options: CreateSessionOptions = {}): Promise<CreateSessionResult> {
    assertSession(this.#state.ids, session);
    assertLimitOptions(options);
    const state = this.#state;
    const now = state.now();
    if (session.expiresAt <= now)
      throw new InvalidArgumentError('session.expiresAt', 'must be in the future');

    // Prune on write, then count what is left: every remaining member is live.
    state.pruneUserSessions(session.userId, now);
    const live: Session[] = [];
    for (const sessionId of state.userSessions.get(session.userId)?.keys() ?? []) {
      if (sessionId === session.sessionId) continue; // re-creating an id replaces it
      const other = state.liveSession(sessionId, now);
      if (other !== null) live.push(other);
    }

    const deviceSeen =
      options.reportDeviceSeen === true && session.deviceId !== null
        ? live.some((other) => other.deviceId === session.deviceId)
        : undefined;
    const evicted: string[] = [];
    if (options.maxSessions !== undefined && live.length >= options.maxSessions) {
      if ((options.onLimit ?? 'evict-oldest') === 'deny') {
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
    return deviceSeen === undefined ? { evicted } : { evicted, deviceSeen };
  }

  async getSession(sessionId: string): Promise<Session | null> {
    this.#state.ids.parse('sessionId', sessionId);
    const session = this.#state.liveSession(sessionId);
    return session === null ? null : copySession(session);
  }

  async updateSession(session: Session, options: UpdateSessionOptions = {}): Promise<boolean> {
    assertSession(this.#state.ids, session);
    const ifBefore = options.ifLastActivityAtOrBefore;
    if (ifBefore !== undefined) assertFiniteNumber('ifLastActivityAtOrBefore', ifBefore);
    const state = this.#state;
    const now = state.now();
    const stored = state.liveSession(session.sessionId, now);
    // Never resurrects: an ended or expired session stays ended.
    if (stored === null) return false;
    if (stored.userId !== session.userId) {
      throw new InvalidArgumentError('session.userId', 'does not match the stored session');
    }
    const extend = options.extendTtl === true;
    if (extend && session.expiresAt <= now) {
      throw new InvalidArgumentError('session.expiresAt', 'must be in the future');
    }
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
    this.#state.ids.parse('sessionId', sessionId);
    const state = this.#state;
    const now = state.now();
    const live = state.liveSession(sessionId, now);
    state.endSession(sessionId, now);
    return live === null ? null : copySession(live);
  }

  async rotateSessionId(oldSessionId: string, newSessionId: string): Promise<Session | null> {
    const oldId = this.#state.ids.parse('oldSessionId', oldSessionId);
    const newId = this.#state.ids.parse('newSessionId', newSessionId);
    if (oldId.tag !== newId.tag) {
      throw new InvalidIdError('newSessionId', 'must carry the same user tag as the old session id');
    }
    if (oldSessionId === newSessionId) {
      throw new InvalidArgumentError('newSessionId', 'must differ from the old session id');
    }
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
    return copySession(moved);
  }

  async getUserSessions(userId: string, options: { activeOnly?: boolean } = {}): Promise<Session[]> {
    assertUserId(userId);
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
    assertUserId(userId);
    const except = options.exceptSessionId;
    if (except !== undefined) this.#state.ids.parse('exceptSessionId', except);
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
    return ended.sort(byCreatedAtDesc);
  }

  async getDeviceSessions(deviceId: string): Promise<Session[]> {
    assertId('deviceId', deviceId);
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
    userIndexEntries += state.pruneUserSessions(userId, now);
  }
  for (const [deviceId, index] of [...state.deviceSessions]) {
    scanned += index.size;
    deviceIndexEntries += state.pruneDeviceSessions(deviceId, now);
  }
  for (const sessionId of [...state.sessions.keys()]) state.read(state.sessions, sessionId, now);
  return { userIndexEntries, deviceIndexEntries, scanned };
}
