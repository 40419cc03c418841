import { InvalidArgumentError, SessionLimitError, StoreBusyError } from '../../core/errors.js';
import { assertId } from '../../core/ids.js';
import { DEFAULT_SESSION_LIMIT_POLICY } from '../../core/limits.js';
import type {
  CreateSessionOptions,
  CreateSessionResult,
  GuideSessionStore,
  UpdateSessionOptions,
} from '../../core/ports.js';
import {
  isSessionExpired,
  newSecurityEvent,
  type SecurityEventInput,
  type Session,
} from '../../core/types.js';
import {
  chunks,
  forEachConcurrent,
  INDEX_TTL_SLACK_MS,
  type RedisStoreContext,
  scanKeys,
  unexpectedReply,
} from './context.js';
import { byCreatedAtDesc, decodeSession, encodeSecurityEvent, encodeSession } from './records.js';
import { RedisSecurityEvents } from './security-events.js';
import { dropEndedFamilies } from './refresh-families.js';
import type { DerivedCache, RedisTracking } from '../../connection/tracking.js';
import { indexAdd } from './lua/index_add.js';
import { type SessionCreateEvents, sessionCreate } from './lua/session_create.js';
import { sessionDeviceAdd } from './lua/session_device_add.js';
import { sessionDelete } from './lua/session_delete.js';
import { sessionDeleteAll } from './lua/session_delete_all.js';
import { sessionGet } from './lua/session_get.js';
import { sessionSweepCheck } from './lua/session_sweep_check.js';
import { sessionPrune } from './lua/session_prune.js';
import { sessionRotate } from './lua/session_rotate.js';
import { sessionUpdate } from './lua/session_update.js';
import { msUntil } from './validate.js';

/** Members read (and records declared to a script) per bounded step. */
const BATCH = 500;
/** Records `deleteUserSessions` declares to its script; the rest are deleted right after. */
const MAX_DECLARED = 1000;
/** Indexes one cleanup step prunes at once (each with its own bounded commands). */
const SWEEP_CONCURRENCY = 64;
/**
 * Live members of a device index read as "seen on this device" candidates: a device shared by
 * more sessions than this may be reported unseen (a "new device" warning too many, never too few).
 */
const DEVICE_CANDIDATES = 256;
/**
 * How long a sweep's note that a session id was not live is kept (`session_sweep_check.lua`): far
 * longer than a login's device-index add and its create can be apart (one command deadline).
 */
const SWEPT_NOTE_MS = 10 * 60_000;
/** Attempts of the compare-and-set in `rotateSessionId` before giving up on a busy session. */
const ROTATE_ATTEMPTS = 5;

/** The session if its record says it is unexpired at `now`, else `null`. */
function unexpired(session: Session | null, now: number): Session | null {
  return session !== null && !isSessionExpired(session, now) ? session : null;
}

/**
 * `SessionStore` on Redis. Per user, on the user's slot `{tag}`: the records
 * `session:{tag}.<rest>` (compact strings, `records.ts`; evict-oldest reads their `createdAt`) and
 * the index `user:sessions:{tag}` (sessionId → expiry ms, the authority on which sessions are
 * live). Device indexes `device:sessions:<deviceId>` span users, live on their own slots,
 * and are filtered on read. Every multi-key change of a user's keys is one Lua script; work across
 * slots is a sequence of single-slot steps ordered so a crash between them leaves nothing live
 * that should not be (see docs/data-model.md). Arguments are checked by `CheckedSessionStore`
 * (`core/checked/`) before they get here.
 */
export class RedisSessionStore implements GuideSessionStore {
  readonly #ctx: RedisStoreContext;
  /** Decoded live sessions, dropped when their record or index changes (client-side cache). */
  readonly #live: DerivedCache<Session> | null;
  /** Records a login's events when `session_create.lua` could not (the event index at its bound). */
  readonly #events: RedisSecurityEvents;
  /**
   * Off Cluster a login's device entry is written by `session_create.lua` itself (the device index
   * is on the same server); on Cluster it is on another slot, so it is a step of its own.
   */
  readonly #oneStepLogin: boolean;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
    this.#oneStepLogin = ctx.client.topology !== 'cluster';
    this.#events = new RedisSecurityEvents(ctx);
    this.#live = ctx.client.tracking?.derivedCache<Session>() ?? null;
  }

  async createSession(session: Session, options: CreateSessionOptions = {}): Promise<CreateSessionResult> {
    const { client, keys, clock } = this.#ctx;
    const now = clock.now();
    const userIndex = keys.userSessions(session.userId);
    const recordKey = keys.session(session.sessionId);
    const record = encodeSession(session);
    const deviceIndex = session.deviceId === null ? null : keys.deviceSessions(session.deviceId);
    // Whether the device was on a live session of the user is needed to answer `deviceSeen` and to
    // decide the new-device event.
    const wantSeen =
      deviceIndex !== null && (options.reportDeviceSeen === true || options.events?.newDevice !== undefined);
    // Under memory pressure a login waits: the memory left is kept for revocations.
    if (this.#ctx.admission !== null && !this.#ctx.admission.admit('login'))
      throw new StoreBusyError('login');
    const run = client.runScript.bind(client);
    // Off Cluster every key is on one server: one script writes the device entry with the rest
    // (one command, one round trip; no moment where the entry exists without its session).
    const oneStep = deviceIndex !== null && this.#oneStepLogin;

    // Step 1 (device slot, on Cluster): index the device first. Until step 2 lands the member is
    // dead (no record, not in the user index) and filtered on read, so a crash here is harmless.
    // The same script answers the index's live members: those of this user are the candidates
    // step 2 looks up in the user index (was the device already on a live session of theirs?).
    let candidates: string[] = [];
    if (deviceIndex !== null && !oneStep) {
      const members = await sessionDeviceAdd(run, {
        deviceIndexKey: deviceIndex,
        now,
        sessionId: session.sessionId,
        expiresAt: session.expiresAt,
        indexTtlSlackMs: INDEX_TTL_SLACK_MS,
        liveLimit: wantSeen ? DEVICE_CANDIDATES : 0,
      });
      candidates = members.filter(
        (id) => id !== session.sessionId && this.#ctx.ids.is(id) && keys.userSessionsOf(id) === userIndex,
      );
    }

    // Step 2 (user slot): prune, cap, write the record, index it, record the login's events — one
    // script. At the cap the script needs the other sessions' records (their createdAt) declared:
    // it names them, and the second call declares them.
    const events = this.#loginEvents(session, options.events, now);
    const input = {
      userIndexKey: userIndex,
      recordKey,
      sweptKey: keys.userSweptSessions(session.userId),
      now,
      sessionId: session.sessionId,
      expiresAt: session.expiresAt,
      record,
      recordTtlMs: msUntil(session.expiresAt, now),
      maxSessions: options.maxSessions ?? 0,
      onLimit: options.onLimit ?? DEFAULT_SESSION_LIMIT_POLICY,
      indexTtlSlackMs: INDEX_TTL_SLACK_MS,
      deviceCandidates: candidates,
      deviceIndex: oneStep ? { key: deviceIndex, decideSeen: wantSeen } : null,
      declared: null,
      events,
    } as const;
    let reply = await sessionCreate(run, input);
    if (reply.status === 'declare') {
      const declared = reply.others
        .filter((id) => this.#ctx.ids.is(id) && keys.userSessionsOf(id) === userIndex)
        .map((id) => ({ sessionId: id, key: keys.session(id) }));
      reply = await sessionCreate(run, { ...input, declared });
    }
    if (reply.status === 'limit') throw new SessionLimitError(session.userId, options.maxSessions ?? 0);
    if (reply.status !== 'ok') throw unexpectedReply('session_create', reply.status);
    const evicted = reply.evicted.map(([id]) => id);

    // Step 3: the evicted and dead sessions already ended (they left the user index in step 2).
    // Records the script could not read (not declared) are deleted here; every one leaves its device
    // index. When a cleanup sweep found this session not live between steps 1 and 2 (the script
    // says so: the sweep noted the id), it may have removed the device entry: add it again. The
    // events the script could not write (the user's event index at its bound) are recorded now,
    // through the event store's trimming step.
    const ended: Array<Session | null> = [];
    const undeclared: string[] = [];
    for (const [id, value] of [...reply.evicted, ...reply.dead]) {
      if (value === null) undeclared.push(id);
      else ended.push(decodeSession(id, value));
    }
    const late: Array<Promise<unknown>> = [];
    if (reply.events === 'full' && options.events !== undefined) {
      const userId = session.userId;
      late.push(this.#events.record({ ...options.events.created, userId }));
      if (reply.newDevice && options.events.newDevice !== undefined)
        late.push(this.#events.record({ ...options.events.newDevice, userId }));
    }
    const readd = deviceIndex !== null && !oneStep && reply.swept;
    // Most logins end nothing and have room for their events: no step 3 (nor its promises).
    if (ended.length + undeclared.length + late.length > 0 || readd) {
      await Promise.all([
        this.#discardRecords(undeclared),
        this.#deviceRemove(ended),
        readd ? this.#deviceAdd(deviceIndex, session.sessionId, session.expiresAt, now) : null,
        ...late,
      ]);
    }
    // Step 4: the refresh families of the sessions that ended here go too.
    if (ended.length + undeclared.length > 0) await dropEndedFamilies(this.#ctx, { userId: session.userId });
    return options.reportDeviceSeen === true && deviceIndex !== null
      ? { evicted, deviceSeen: reply.deviceSeen }
      : { evicted };
  }

  /**
   * The login's events as `session_create.lua` writes them (records as `RedisSecurityEvents` makes
   * them), or `null` when none are asked or memory pressure drops them.
   */
  #loginEvents(
    session: Session,
    asked: CreateSessionOptions['events'],
    now: number,
  ): SessionCreateEvents | null {
    if (asked === undefined) return null;
    const { keys, eventRetentionMs, maxEventsPerUser, admission } = this.#ctx;
    // Under memory pressure events are dropped (counted by the guard), as `record` drops them.
    if (admission !== null && !admission.admit('event')) return null;
    const device = session.deviceId;
    return {
      userIndexKey: keys.userSecurityEvents(session.userId),
      pruneAtOrBelow: now - eventRetentionMs,
      maxEvents: maxEventsPerUser,
      created: this.#loginEvent(session.userId, asked.created, now),
      newDevice:
        asked.newDevice === undefined || device === null
          ? null
          : {
              ...this.#loginEvent(session.userId, asked.newDevice, now),
              trustedDeviceKey: keys.trustedDevice(session.userId, device),
            },
    };
  }

  /** One of a login's events as `session_create.lua` writes it. */
  #loginEvent(userId: string, input: SecurityEventInput, now: number) {
    const event = newSecurityEvent({ ...input, userId }, this.#ctx.ids, now);
    const expiresAt = event.timestamp + this.#ctx.eventRetentionMs;
    return {
      recordKey: this.#ctx.keys.securityEvent(event.eventId),
      eventId: event.eventId,
      timestamp: event.timestamp,
      ttlMs: Math.max(1, expiresAt - now),
      recordJson: encodeSecurityEvent(event, expiresAt),
    };
  }

  getSession(sessionId: string): Promise<Session | null> {
    // Warm: the decoded session this connection holds, without the frames of an async call (an
    // introspection that records activity comes here every time); otherwise `#readLive`.
    const now = this.#ctx.clock.now();
    const tracking = this.#ctx.client.tracking;
    const live = this.#live;
    if (tracking === null || live === null) return this.#readLive(sessionId, now);
    const hit = tracking.lookup(live, sessionId, now);
    return hit !== undefined ? Promise.resolve(hit) : this.#deriveLive(tracking, live, sessionId, now);
  }

  async updateSession(session: Session, options: UpdateSessionOptions = {}): Promise<boolean> {
    const { client, keys, clock } = this.#ctx;
    const now = clock.now();
    const extend = options.extendTtl === true;
    const ifBefore = options.ifLastActivityAtOrBefore;
    const reply = await sessionUpdate(client.runScript.bind(client), {
      recordKey: keys.session(session.sessionId),
      userIndexKey: keys.userSessions(session.userId),
      now,
      sessionId: session.sessionId,
      record: encodeSession(session),
      extend,
      expiresAt: session.expiresAt,
      ttlMs: msUntil(session.expiresAt, now),
      indexTtlSlackMs: INDEX_TTL_SLACK_MS,
      ifLastActivityAtOrBefore: ifBefore,
    });
    // Never resurrects: the script wrote nothing unless the session was live.
    if (reply.status === 'gone') return false;
    // Live, but its activity was written more recently than asked: nothing changed.
    if (reply.status === 'held') return true;
    const previous = decodeSession(session.sessionId, reply.previous);
    const score = reply.score;

    // Second step (device slots): follow the record's device and score. Filtered on read, so a
    // crash in between leaves at worst a stale entry or a missing one that cleanup does not need.
    const steps: Array<Promise<unknown>> = [];
    const oldDevice = previous?.deviceId ?? null;
    if (oldDevice !== null && oldDevice !== session.deviceId) {
      steps.push(
        client.wrap('zRem', () => client.commands.zRem(keys.deviceSessions(oldDevice), session.sessionId)),
      );
    }
    if (session.deviceId !== null && (extend || oldDevice !== session.deviceId)) {
      steps.push(this.#deviceAdd(keys.deviceSessions(session.deviceId), session.sessionId, score, now));
    }
    await Promise.all(steps);
    return true;
  }

  async deleteSession(sessionId: string): Promise<Session | null> {
    const { client, keys, clock } = this.#ctx;
    const now = clock.now();
    const { record, indexScore: score } = await sessionDelete(client.runScript.bind(client), {
      recordKey: keys.session(sessionId),
      userIndexKey: keys.userSessionsOf(sessionId),
      sessionId,
    });
    const session = decodeSession(sessionId, record);
    if (session?.deviceId) {
      const deviceIndex = keys.deviceSessions(session.deviceId);
      await client.wrap('zRem', () => client.commands.zRem(deviceIndex, sessionId));
    }
    // The session's refresh families go with it (and any other ended session's).
    if (session !== null || score !== null) await dropEndedFamilies(this.#ctx, { sessionId });
    return score !== null && score > now ? unexpired(session, now) : null;
  }

  async rotateSessionId(oldSessionId: string, newSessionId: string): Promise<Session | null> {
    const { client, keys, clock } = this.#ctx;
    for (let attempt = 0; attempt < ROTATE_ATTEMPTS; attempt++) {
      const now = clock.now();
      const read = await this.#readLiveJson(oldSessionId, now);
      if (read === null) return null;
      const moved: Session = { ...read.session, sessionId: newSessionId };
      const deviceIndex = moved.deviceId === null ? null : keys.deviceSessions(moved.deviceId);
      // The new id joins the device index first (dead until the script lands, filtered on read).
      if (deviceIndex !== null) await this.#deviceAdd(deviceIndex, newSessionId, moved.expiresAt, now);
      const status = await sessionRotate(client.runScript.bind(client), {
        oldRecordKey: keys.session(oldSessionId),
        newRecordKey: keys.session(newSessionId),
        userIndexKey: keys.userSessionsOf(oldSessionId),
        now,
        oldSessionId,
        newSessionId,
        oldRecord: read.value,
        newRecord: encodeSession(moved),
      });
      if (status === 'moved') {
        // The new id is added again now that it is live: a device-index prune that ran between
        // the first add and the script saw it dead and may have removed it (as createSession's
        // step 3 does).
        if (deviceIndex !== null)
          await Promise.all([
            this.#deviceAdd(deviceIndex, newSessionId, moved.expiresAt, now),
            client.wrap('zRem', () => client.commands.zRem(deviceIndex, oldSessionId)),
          ]);
        // The old id has ended: the families it refreshed go (a refresh token names its session).
        await dropEndedFamilies(this.#ctx, { sessionId: oldSessionId });
        return moved;
      }
      if (deviceIndex !== null)
        await client.wrap('zRem', () => client.commands.zRem(deviceIndex, newSessionId));
      if (status === 'not_live') return null;
      if (status === 'id_in_use') throw new InvalidArgumentError('newSessionId', 'is already in use');
      // 'changed': the record changed between our read and the script; read it again.
    }
    return null;
  }

  async getUserSessions(userId: string, options: { activeOnly?: boolean } = {}): Promise<Session[]> {
    const { client, keys, clock } = this.#ctx;
    const index = keys.userSessions(userId);
    const now = clock.now();
    const activeOnly = options.activeOnly ?? true;
    // Live: members scored after now, then
    // filtered by the records' own fields. With `activeOnly: false`, every member whose record
    // still exists: an update that moved a record's end back lowers its score below now while the
    // record keeps its TTL (session_update.lua).
    const ids = (
      await client.wrap('zRange', () =>
        activeOnly
          ? client.commands.zRange(index, `(${now}`, '+inf', { BY: 'SCORE' })
          : client.commands.zRange(index, 0, -1),
      )
    ).filter(this.#ctx.ids.is);
    const sessions = await this.#readRecords(ids);
    return sessions
      .filter((s): s is Session => s !== null && (!activeOnly || !isSessionExpired(s, now)))
      .sort(byCreatedAtDesc);
  }

  async deleteUserSessions(userId: string, options: { exceptSessionId?: string } = {}): Promise<Session[]> {
    const { client, keys, clock } = this.#ctx;
    const index = keys.userSessions(userId);
    const except = options.exceptSessionId;
    const now = clock.now();

    const members = await client.wrap('zRange', () => client.commands.zRange(index, 0, -1));
    const declared = members.filter(
      (id) => id !== except && this.#ctx.ids.is(id) && keys.userSessionsOf(id) === index,
    );
    const declaredNow = declared.slice(0, MAX_DECLARED);
    const reply = await sessionDeleteAll(client.runScript.bind(client), {
      userIndexKey: index,
      now,
      keepSessionId: except ?? null,
      declared: declaredNow.map((id) => ({ sessionId: id, key: keys.session(id) })),
    });

    const records = new Map<string, Session | null>();
    for (const [id, record] of reply.records) records.set(id, decodeSession(id, record));
    const removed = reply.removed;

    // Members the script could not declare (added after our read, or beyond MAX_DECLARED) are
    // already out of the index, hence dead: delete their records now.
    const undeclared = removed
      .map((r) => r.sessionId)
      .filter((id) => !records.has(id) && this.#ctx.ids.is(id) && keys.userSessionsOf(id) === index);
    for (const [id, session] of await this.#takeRecords(undeclared)) records.set(id, session);

    const ended: Session[] = [];
    for (const { sessionId: id, score } of removed) {
      const session = unexpired(records.get(id) ?? null, now);
      if (session !== null && score > now) ended.push(session);
    }
    await this.#deviceRemove([...records.values()]);
    if (removed.length > 0) await dropEndedFamilies(this.#ctx, { userId });
    return ended.sort(byCreatedAtDesc);
  }

  async getDeviceSessions(deviceId: string): Promise<Session[]> {
    const { client, keys, clock } = this.#ctx;
    const index = keys.deviceSessions(deviceId);
    const now = clock.now();
    const ids = (
      await client.wrap('zRange', () => client.commands.zRange(index, `(${now}`, '+inf', { BY: 'SCORE' }))
    ).filter(this.#ctx.ids.is);
    // Members span users (slots): one live read each, in parallel (node-redis pipelines them).
    const sessions = await Promise.all(ids.map((id) => this.#readLive(id, now)));
    return sessions.filter((s): s is Session => s !== null && s.deviceId === deviceId).sort(byCreatedAtDesc);
  }

  async cleanupExpiredSessions(): Promise<number> {
    const { userIndexEntries, deviceIndexEntries } = await cleanupSessionIndexes(this.#ctx);
    return userIndexEntries + deviceIndexEntries;
  }

  /**
   * A live session (the index scores it live, its record is present and unexpired), or `null`. With the client-side cache on, the index score and the record are
   * two plain reads through the tracked connection (answered in process while neither key has
   * changed, like the revocation reads); otherwise `session_get.lua`. Two reads are as safe as the
   * script here: every write changes the record and the index in one script, so any pair seen is
   * "before" or "after" a write, and either way the session is returned only if the index scores
   * it live and the record itself is unexpired.
   */
  async #readLive(sessionId: string, now: number): Promise<Session | null> {
    const tracking = this.#ctx.client.tracking;
    const live = this.#live;
    if (tracking === null || live === null)
      return (await this.#readLiveJson(sessionId, now))?.session ?? null;
    const hit = tracking.lookup(live, sessionId, now);
    if (hit !== undefined) return hit;
    return this.#deriveLive(tracking, live, sessionId, now);
  }

  /** `#readLive` past a miss of the derived cache: both reads, and the decoded session kept. */
  async #deriveLive(
    tracking: RedisTracking,
    live: DerivedCache<Session>,
    sessionId: string,
    now: number,
  ): Promise<Session | null> {
    const { client, keys } = this.#ctx;
    const indexKey = keys.userSessionsOf(sessionId);
    const recordKey = keys.session(sessionId);
    let session: Session | null = null;
    await tracking.derive(
      live,
      [indexKey, recordKey],
      () =>
        client.wrap('getSession', () =>
          Promise.all([tracking.commands.zScore(indexKey, sessionId), tracking.commands.get(recordKey)]),
        ),
      ([score, value]) => {
        session =
          score !== null && Number(score) > now ? unexpired(decodeSession(sessionId, value), now) : null;
        if (session === null) return null;
        // Shared by every caller until a write drops it: frozen (its fields are all primitives).
        Object.freeze(session);
        const validUntil = Math.min(
          Number(score),
          session.expiresAt,
          session.absoluteExpiresAt,
          now + tracking.ttlMs,
        );
        return { id: sessionId, value: session, validUntil };
      },
    );
    return session;
  }

  async #readLiveJson(sessionId: string, now: number): Promise<{ session: Session; value: string } | null> {
    const { client, keys } = this.#ctx;
    const value = await sessionGet(client.runScript.bind(client), {
      recordKey: keys.session(sessionId),
      userIndexKey: keys.userSessionsOf(sessionId),
      now,
      sessionId,
    });
    const session = unexpired(decodeSession(sessionId, value), now);
    if (value === null || session === null) return null;
    return { session, value };
  }

  /** Reads the records of one user's sessions (one slot: `MGET` in bounded batches). */
  async #readRecords(ids: readonly string[]): Promise<Array<Session | null>> {
    const { client, keys } = this.#ctx;
    const out: Array<Session | null> = [];
    for (const batch of chunks(ids, BATCH)) {
      const values = await client.wrap('mGet', () =>
        client.commands.mGet(batch.map((id) => keys.session(id))),
      );
      batch.forEach((id, i) => {
        out.push(decodeSession(id, values[i] ?? null));
      });
    }
    return out;
  }

  /** Reads then deletes records of sessions that already left their user index (dead). */
  async #takeRecords(ids: readonly string[]): Promise<Map<string, Session | null>> {
    const { client, keys } = this.#ctx;
    const out = new Map<string, Session | null>();
    // One user's records share a slot, so one MGET and one DEL per batch are allowed on Cluster;
    // group by slot anyway in case ids of several users are passed.
    const bySlot = new Map<string, string[]>();
    for (const id of ids) {
      const slot = keys.userSessionsOf(id);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [id]);
      else group.push(id);
    }
    for (const group of bySlot.values()) {
      for (const batch of chunks(group, BATCH)) {
        const recordKeys = batch.map((id) => keys.session(id));
        const values = await client.wrap('mGet', () => client.commands.mGet(recordKeys));
        await client.wrap('del', () => client.commands.del(recordKeys));
        batch.forEach((id, i) => {
          out.set(id, decodeSession(id, values[i] ?? null));
        });
      }
    }
    return out;
  }

  /** Deletes the records of evicted sessions and their device index entries. */
  async #discardRecords(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const records = await this.#takeRecords(ids);
    await this.#deviceRemove([...records.values()]);
  }

  /** Removes ended sessions from their device indexes (each on its own slot). */
  async #deviceRemove(sessions: ReadonlyArray<Session | null>): Promise<void> {
    const { client, keys } = this.#ctx;
    await Promise.all(
      sessions.map((s) => {
        if (s === null || s.deviceId === null || !isDeviceId(s.deviceId)) return null;
        const index = keys.deviceSessions(s.deviceId);
        return client.wrap('zRem', () => client.commands.zRem(index, s.sessionId));
      }),
    );
  }

  #deviceAdd(index: string, sessionId: string, score: number, now: number): Promise<unknown> {
    const { client } = this.#ctx;
    return indexAdd(client.runScript.bind(client), {
      indexKey: index,
      now,
      pruneAtOrBelow: now,
      maxMembers: 0,
      indexTtlSlackMs: INDEX_TTL_SLACK_MS,
      entries: [[score, sessionId]],
    });
  }
}

function isDeviceId(value: string): boolean {
  try {
    assertId('deviceId', value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Prunes every user and device session index (bounded `SCAN`, members in batches of 500):
 * members whose score is at or before now, whose record is gone or expired, or — in device
 * indexes — whose session is no longer live. Used by `cleanupExpiredSessions` and maintenance.
 */
export async function cleanupSessionIndexes(
  ctx: RedisStoreContext,
  onStep?: (scanned: number) => void,
): Promise<{ userIndexEntries: number; deviceIndexEntries: number; scanned: number }> {
  const { keys } = ctx;
  let scanned = 0;
  let userIndexEntries = 0;
  let deviceIndexEntries = 0;
  // User indexes first: the device pass asks whether a member is still in its user's index.
  // Within a SCAN batch the indexes are independent: up to SWEEP_CONCURRENCY at a time (their
  // small commands are pipelined; each command stays bounded).
  for await (const batch of scanKeys(ctx, keys.patterns.userSessions)) {
    await forEachConcurrent(batch, SWEEP_CONCURRENCY, async (index) => {
      const r = await pruneUserIndex(ctx, index);
      scanned += r.scanned;
      userIndexEntries += r.removed;
    });
    onStep?.(scanned);
  }
  for await (const batch of scanKeys(ctx, keys.patterns.deviceSessions)) {
    await forEachConcurrent(batch, SWEEP_CONCURRENCY, async (index) => {
      const r = await pruneDeviceIndex(ctx, index);
      scanned += r.scanned;
      deviceIndexEntries += r.removed;
    });
    onStep?.(scanned);
  }
  return { userIndexEntries, deviceIndexEntries, scanned };
}

async function pruneUserIndex(
  ctx: RedisStoreContext,
  index: string,
): Promise<{ removed: number; scanned: number }> {
  const { client, keys } = ctx;
  let removed = 0;
  let scanned = 0;
  let offset = 0;
  for (;;) {
    const members = await client.wrap('zRange', () =>
      client.commands.zRange(index, offset, offset + BATCH - 1),
    );
    if (members.length === 0) break;
    scanned += members.length;
    const valid = members.filter((id) => ctx.ids.is(id) && keys.userSessionsOf(id) === index);
    const invalid = members.filter((id) => !valid.includes(id));
    let removedHere = 0;
    if (invalid.length > 0) {
      removedHere += await client.wrap('zRem', () => client.commands.zRem(index, invalid));
    }
    if (valid.length > 0) {
      removedHere += await sessionPrune(client.runScript.bind(client), {
        userIndexKey: index,
        now: ctx.clock.now(),
        members: valid.map((id) => ({ sessionId: id, key: keys.session(id) })),
      });
    }
    removed += removedHere;
    // The refresh families of the sessions pruned here go too.
    if (removedHere > 0 && valid.length > 0) await dropEndedFamilies(ctx, { sessionId: valid[0]! });
    if (members.length < BATCH) break;
    offset += members.length - removedHere;
  }
  return { removed, scanned };
}

async function pruneDeviceIndex(
  ctx: RedisStoreContext,
  index: string,
): Promise<{ removed: number; scanned: number }> {
  const { client, keys } = ctx;
  const run = client.runScript.bind(client);
  let removed = 0;
  let scanned = 0;
  let offset = 0;
  for (;;) {
    const now = ctx.clock.now();
    const members = await client.wrap('zRangeWithScores', () =>
      client.commands.zRangeWithScores(index, offset, offset + BATCH - 1),
    );
    if (members.length === 0) break;
    scanned += members.length;
    // A member found not live is noted in its user's swept set (session_sweep_check.lua) before it
    // is removed: a login between its device-index add and its create then adds the entry again.
    const dead = await Promise.all(
      members.map(async ({ value, score }) => {
        if (score <= now || !ctx.ids.is(value)) return true;
        const record = await sessionSweepCheck(run, {
          recordKey: keys.session(value),
          userIndexKey: keys.userSessionsOf(value),
          sweptKey: keys.userSweptSessionsOf(value),
          now,
          sessionId: value,
          noteMs: SWEPT_NOTE_MS,
        });
        return unexpired(decodeSession(value, record), now) === null;
      }),
    );
    const toRemove = members.filter((_, i) => dead[i]).map((m) => m.value);
    const removedHere =
      toRemove.length === 0 ? 0 : await client.wrap('zRem', () => client.commands.zRem(index, toRemove));
    removed += removedHere;
    if (removedHere > 0) await restoreLive(ctx, index, toRemove);
    if (members.length < BATCH) break;
    offset += members.length - removedHere;
  }
  return { removed, scanned };
}

/**
 * After a sweep removed members from a device index: any of them whose create landed between the
 * sweep's check and the removal is live now, and goes back (a login that landed after the removal
 * sees the swept note and adds its entry itself).
 */
async function restoreLive(ctx: RedisStoreContext, index: string, removed: readonly string[]): Promise<void> {
  const { client, keys } = ctx;
  const run = client.runScript.bind(client);
  const now = ctx.clock.now();
  await Promise.all(
    removed.map(async (id) => {
      if (!ctx.ids.is(id)) return;
      const record = await sessionGet(run, {
        recordKey: keys.session(id),
        userIndexKey: keys.userSessionsOf(id),
        now,
        sessionId: id,
      });
      const session = unexpired(decodeSession(id, record), now);
      if (session === null) return;
      await indexAdd(run, {
        indexKey: index,
        now,
        pruneAtOrBelow: now,
        maxMembers: 0,
        indexTtlSlackMs: INDEX_TTL_SLACK_MS,
        entries: [[session.expiresAt, id]],
      });
    }),
  );
}
