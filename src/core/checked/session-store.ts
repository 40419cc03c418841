import { InvalidArgumentError, InvalidIdError } from '../errors.js';
import { assertId, assertUserId, type IdCodec } from '../ids.js';
import { SESSION_LIMIT_POLICIES } from '../limits.js';
import type {
  CreateSessionOptions,
  CreateSessionResult,
  GuideSessionStore,
  UpdateSessionOptions,
} from '../ports.js';
import type { SecurityEventInput, Session } from '../types.js';
import { checkEventInput } from './security-events.js';
import { assertFiniteNumber, assertObject, assertUserScoped } from '../validate.js';
import { type CheckContext, KnownIds } from './context.js';

/** Checks everything about a session that would reach a key or a TTL. */
function assertSession(ids: IdCodec, session: Session): void {
  assertObject('session', session);
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
  assertObject('options', options);
  const { maxSessions, onLimit } = options;
  if (maxSessions !== undefined && (!Number.isSafeInteger(maxSessions) || maxSessions < 1)) {
    throw new InvalidArgumentError('maxSessions', 'must be an integer of at least 1');
  }
  if (onLimit !== undefined && !SESSION_LIMIT_POLICIES.includes(onLimit)) {
    throw new InvalidArgumentError('onLimit', `must be one of ${SESSION_LIMIT_POLICIES.join(', ')}`);
  }
  if (options.reportDeviceSeen !== undefined && typeof options.reportDeviceSeen !== 'boolean') {
    throw new InvalidArgumentError('reportDeviceSeen', 'must be a boolean');
  }
}

/**
 * A login's events (`CreateSessionOptions.events`), checked as `record` checks one, with the
 * severity filled in. They belong to the session's user and are stamped at the create.
 */
function checkLoginEvents(
  session: Session,
  events: NonNullable<CreateSessionOptions['events']>,
): NonNullable<CreateSessionOptions['events']> {
  assertObject('events', events);
  const created = checkLoginEvent(session, 'events.created', events.created);
  return events.newDevice === undefined
    ? { created }
    : { created, newDevice: checkLoginEvent(session, 'events.newDevice', events.newDevice) };
}

/** One of a login's events: its user is the session's, its time the create's. */
function checkLoginEvent(session: Session, name: string, input: SecurityEventInput): SecurityEventInput {
  const checked = checkEventInput(input, name);
  if (checked.userId !== undefined && checked.userId !== session.userId) {
    throw new InvalidArgumentError(`${name}.userId`, "must be the session's user");
  }
  if (checked.timestamp !== undefined && checked.timestamp !== null) {
    throw new InvalidArgumentError(`${name}.timestamp`, 'is the time of the create: leave it out');
  }
  return checked;
}

/** `GuideSessionStore` (the port and the guide's extra methods) with every argument checked before the backend sees it. */
export class CheckedSessionStore implements GuideSessionStore {
  readonly #inner: GuideSessionStore;
  readonly #ctx: CheckContext;
  readonly #knownSessionIds: KnownIds;

  constructor(inner: GuideSessionStore, ctx: CheckContext) {
    this.#inner = inner;
    this.#ctx = ctx;
    this.#knownSessionIds = new KnownIds(ctx.ids);
  }

  createSession(session: Session, options: CreateSessionOptions = {}): Promise<CreateSessionResult> {
    // Every login: the checks, then the backend's own promise (no async frame of its own).
    let events: CreateSessionOptions['events'];
    try {
      assertSession(this.#ctx.ids, session);
      assertLimitOptions(options);
      if (session.expiresAt <= this.#ctx.clock.now()) {
        throw new InvalidArgumentError('session.expiresAt', 'must be in the future');
      }
      events = options.events === undefined ? undefined : checkLoginEvents(session, options.events);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#inner.createSession(session, events === undefined ? options : { ...options, events });
  }

  getSession(sessionId: string): Promise<Session | null> {
    // Every authenticated request reads its session: no async wrapper, and an id seen before is
    // not parsed again.
    try {
      this.#knownSessionIds.assert('sessionId', sessionId);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#inner.getSession(sessionId);
  }

  async updateSession(session: Session, options: UpdateSessionOptions = {}): Promise<boolean> {
    assertSession(this.#ctx.ids, session);
    assertObject('options', options);
    const ifBefore = options.ifLastActivityAtOrBefore;
    if (ifBefore !== undefined) assertFiniteNumber('ifLastActivityAtOrBefore', ifBefore);
    if (options.extendTtl === true && session.expiresAt <= this.#ctx.clock.now()) {
      throw new InvalidArgumentError('session.expiresAt', 'must be in the future');
    }
    return this.#inner.updateSession(session, options);
  }

  async deleteSession(sessionId: string): Promise<Session | null> {
    this.#ctx.ids.parse('sessionId', sessionId);
    return this.#inner.deleteSession(sessionId);
  }

  async rotateSessionId(oldSessionId: string, newSessionId: string): Promise<Session | null> {
    const oldId = this.#ctx.ids.parse('oldSessionId', oldSessionId);
    const newId = this.#ctx.ids.parse('newSessionId', newSessionId);
    if (oldId.tag !== newId.tag) {
      throw new InvalidIdError('newSessionId', 'must carry the same user tag as the old session id');
    }
    if (oldSessionId === newSessionId) {
      throw new InvalidArgumentError('newSessionId', 'must differ from the old session id');
    }
    return this.#inner.rotateSessionId(oldSessionId, newSessionId);
  }

  async getUserSessions(userId: string, options: { activeOnly?: boolean } = {}): Promise<Session[]> {
    assertUserId(userId);
    assertObject('options', options);
    return this.#inner.getUserSessions(userId, options);
  }

  async deleteUserSessions(userId: string, options: { exceptSessionId?: string } = {}): Promise<Session[]> {
    assertUserId(userId);
    assertObject('options', options);
    if (options.exceptSessionId !== undefined)
      this.#ctx.ids.parse('exceptSessionId', options.exceptSessionId);
    return this.#inner.deleteUserSessions(userId, options);
  }

  async getDeviceSessions(deviceId: string): Promise<Session[]> {
    assertId('deviceId', deviceId);
    return this.#inner.getDeviceSessions(deviceId);
  }

  cleanupExpiredSessions(): Promise<number> {
    return this.#inner.cleanupExpiredSessions();
  }
}
