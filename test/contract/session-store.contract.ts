import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionLimitError } from '../../src/core/errors.js';
import { newUserScopedId } from '../../src/core/ids.js';
import { type Session, updateSessionActivity } from '../../src/core/types.js';
import { makeSession, makeTrustedDevice, uniqueDeviceId, uniqueUserId } from '../helpers/fixtures.js';
import {
  assertExpires,
  assertRejectsAll,
  BAD_IDS,
  BAD_USER_IDS,
  ODD_USER_IDS,
  badScopedIds,
  type ContractStores,
  type MakeStores,
  now,
  passTime,
  sorted,
  withStores,
} from './harness.js';

const ids = (sessions: readonly Session[]) => sessions.map((s) => s.sessionId);

/** Ids among `candidates` for which `getSession` returns a session. */
async function liveIds(ctx: ContractStores, candidates: readonly string[]): Promise<string[]> {
  const found = await Promise.all(candidates.map((id) => ctx.stores.sessionStore.getSession(id)));
  return sorted(candidates.filter((_, i) => found[i] !== null));
}

function shuffle<T>(values: T[]): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}

/** `SessionStore`: records, the user index (the authority), the device index, the cap. */
export function sessionStoreContract(name: string, makeStores: MakeStores): void {
  describe(`SessionStore contract (${name})`, () => {
    it('createSession stores the session and getSession returns it unchanged', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(
          uniqueUserId(),
          { lastEndpoint: '/api/trades', mfaVerified: true },
          now(ctx),
        );
        assert.deepEqual(await store.createSession(session), { evicted: [] });
        assert.deepEqual(await store.getSession(session.sessionId), session);
      }));

    it('reportDeviceSeen: whether another live session of the user was on the device just before', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const first = makeSession(userId, {}, now(ctx));
        const device = first.deviceId!;
        const asked = { reportDeviceSeen: true };
        assert.deepEqual(await store.createSession(first, asked), { evicted: [], deviceSeen: false });
        const second = makeSession(userId, { deviceId: device }, now(ctx));
        assert.deepEqual(await store.createSession(second, asked), { evicted: [], deviceSeen: true });
        // Another user on the same device: not this user's.
        const stranger = makeSession(uniqueUserId(), { deviceId: device }, now(ctx));
        assert.deepEqual(await store.createSession(stranger, asked), { evicted: [], deviceSeen: false });
        // Ended sessions do not count; the session evicted by this very create does (seen before).
        await store.deleteSession(first.sessionId);
        await store.deleteSession(second.sessionId);
        const third = makeSession(userId, { deviceId: device }, now(ctx));
        assert.deepEqual(await store.createSession(third, asked), { evicted: [], deviceSeen: false });
        const fourth = makeSession(userId, { deviceId: device }, now(ctx));
        assert.deepEqual(await store.createSession(fourth, { ...asked, maxSessions: 1 }), {
          evicted: [third.sessionId],
          deviceSeen: true,
        });
        // Not asked: not answered.
        assert.deepEqual(await store.createSession(makeSession(userId, {}, now(ctx))), { evicted: [] });
      }));

    it("events: the login's events are recorded with the create; new_device only for a device new to the user", () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const events = (sessionId: string) => ({
          created: { type: 'session_created', userId, sessionId, details: { n: sessionId.length } },
          newDevice: { type: 'new_device', userId, severity: 'warning' as const, sessionId },
        });
        const types = async () =>
          (await ctx.stores.securityEvents.listUserEvents(userId, { limit: 100 })).map((e) => e.type).sort();
        const first = makeSession(userId, {}, now(ctx));
        const device = first.deviceId!;
        const before = now(ctx);
        assert.deepEqual(await store.createSession(first, { events: events(first.sessionId) }), {
          evicted: [],
        });
        const after = now(ctx);
        assert.deepEqual(await types(), ['new_device', 'session_created']);
        const [newDevice] = (await ctx.stores.securityEvents.listUserEvents(userId)).filter(
          (e) => e.type === 'new_device',
        );
        assert.equal(newDevice?.userId, userId);
        assert.equal(newDevice?.severity, 'warning');
        assert.equal(newDevice?.sessionId, first.sessionId);
        assert.ok(newDevice !== undefined && newDevice.timestamp >= before && newDevice.timestamp <= after);
        // The same device again, on a live session: known.
        const second = makeSession(userId, { deviceId: device }, now(ctx));
        await store.createSession(second, { events: events(second.sessionId) });
        assert.deepEqual(await types(), ['new_device', 'session_created', 'session_created']);
        // A device the user trusts, on no live session: known.
        const trusted = uniqueDeviceId();
        await ctx.stores.trustedDevices.trust(makeTrustedDevice(userId, { deviceId: trusted }, now(ctx)));
        const third = makeSession(userId, { deviceId: trusted }, now(ctx));
        await store.createSession(third, { events: events(third.sessionId) });
        assert.deepEqual(await types(), [
          'new_device',
          'session_created',
          'session_created',
          'session_created',
        ]);
        // No device: no new_device event. Without a newDevice event: none either.
        await store.createSession(makeSession(userId, { deviceId: null }, now(ctx)), { events: events('x') });
        const fifth = makeSession(userId, {}, now(ctx));
        await store.createSession(fifth, { events: { created: events(fifth.sessionId).created } });
        assert.equal((await types()).filter((t) => t === 'new_device').length, 1);
        assert.equal((await types()).filter((t) => t === 'session_created').length, 5);
        // Refused at the cap: nothing is written, no event.
        const refused = makeSession(userId, {}, now(ctx));
        await assert.rejects(
          store.createSession(refused, {
            maxSessions: 1,
            onLimit: 'deny',
            events: events(refused.sessionId),
          }),
          SessionLimitError,
        );
        assert.equal((await types()).length, 6);
      }));

    it('events: at the bound of the event index they are still recorded, and the bound holds', () =>
      withStores(
        makeStores,
        async (ctx) => {
          const store = ctx.stores.sessionStore;
          const userId = uniqueUserId();
          for (let i = 0; i < 3; i++) {
            await ctx.stores.securityEvents.record({ type: 'older', userId, timestamp: now(ctx) - 1000 - i });
          }
          const session = makeSession(userId, {}, now(ctx));
          await store.createSession(session, {
            events: {
              created: { type: 'session_created', userId, sessionId: session.sessionId },
              newDevice: { type: 'new_device', userId, sessionId: session.sessionId },
            },
          });
          const listed = await ctx.stores.securityEvents.listUserEvents(userId, { limit: 100 });
          assert.deepEqual(listed.map((e) => e.type).sort(), ['new_device', 'older', 'session_created']);
          assert.ok(await store.getSession(session.sessionId));
        },
        { maxEventsPerUser: 3 },
      ));

    it("events: refused when not the session user's or stamped with another time", () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        for (const created of [
          { type: 'session_created', userId: uniqueUserId() },
          { type: 'session_created', timestamp: now(ctx) },
          { type: '' },
          { type: 'session_created', severity: 'loud' },
        ]) {
          await assert.rejects(
            store.createSession(session, { events: { created } as never }),
            (err: unknown) => (err as { code?: string }).code === 'ERR_INVALID_ARGUMENT',
          );
        }
        assert.equal(await store.getSession(session.sessionId), null);
      }));

    it('any printable Unicode user id (tenant:kim, spaces, braces, emoji, 256 bytes) is kept as given', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        for (const odd of ODD_USER_IDS) {
          const userId = odd.length > 100 ? odd : `${odd}-${uniqueUserId()}`.slice(0, 200);
          const session = makeSession(userId, {}, now(ctx));
          await store.createSession(session);
          assert.deepEqual(await store.getSession(session.sessionId), session, JSON.stringify(userId));
          assert.deepEqual(ids(await store.getUserSessions(userId)), [session.sessionId]);
          const beforeMs = now(ctx);
          await ctx.stores.tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs, ttlSeconds: 60 });
          assert.equal(await ctx.stores.tokenBlacklist.getUserWatermark(userId), beforeMs);
          assert.deepEqual(ids(await store.deleteUserSessions(userId)), [session.sessionId]);
          assert.deepEqual(await store.getUserSessions(userId), []);
        }
      }));

    it('a session without a device or fingerprint is stored and listed', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const session = makeSession(userId, { deviceId: null, deviceFingerprint: null }, now(ctx));
        await store.createSession(session);
        assert.deepEqual(await store.getSession(session.sessionId), session);
        assert.deepEqual(await store.getUserSessions(userId), [session]);
      }));

    it('getSession returns null for an unknown session', () =>
      withStores(makeStores, async (ctx) => {
        assert.equal(await ctx.stores.sessionStore.getSession(newUserScopedId(uniqueUserId())), null);
      }));

    it("getUserSessions lists the user's sessions newest first, and no other user's", () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const a = makeSession(userId, { createdAt: t - 2000 }, t);
        const b = makeSession(userId, { createdAt: t - 1000 }, t);
        const c = makeSession(userId, { createdAt: t }, t);
        for (const s of [b, c, a]) await store.createSession(s);
        await store.createSession(makeSession(uniqueUserId(), {}, t));
        assert.deepEqual(await store.getUserSessions(userId), [c, b, a]);
        assert.deepEqual(await store.getUserSessions(uniqueUserId()), []);
      }));

    it('getDeviceSessions lists the live sessions seen on a device, newest first', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const deviceId = uniqueDeviceId();
        const t = now(ctx);
        const a = makeSession(uniqueUserId(), { deviceId, createdAt: t - 1000 }, t);
        const b = makeSession(uniqueUserId(), { deviceId, createdAt: t }, t);
        const c = makeSession(a.userId, { createdAt: t }, t);
        for (const s of [a, b, c]) await store.createSession(s);
        assert.deepEqual(await store.getDeviceSessions(deviceId), [b, a]);
        await store.deleteSession(b.sessionId);
        assert.deepEqual(await store.getDeviceSessions(deviceId), [a]);
        assert.deepEqual(await store.getDeviceSessions(uniqueDeviceId()), []);
      }));

    it('a session ends at expiresAt: getSession and both indexes drop it', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const session = makeSession(userId, { expiresAt: t + 300 }, t);
        await store.createSession(session);
        await assertExpires(
          ctx,
          300,
          async () => (await store.getSession(session.sessionId)) !== null,
          'session',
        );
        assert.deepEqual(await store.getUserSessions(userId), []);
        assert.deepEqual(await store.getDeviceSessions(session.deviceId!), []);
      }));

    it('updateSession replaces a live session and returns true', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), {}, t);
        await store.createSession(session);
        const updated = { ...updateSessionActivity(session, t + 1, '/api/orders'), mfaVerified: true };
        assert.equal(await store.updateSession(updated), true);
        assert.deepEqual(await store.getSession(session.sessionId), updated);
        assert.deepEqual(await store.getUserSessions(session.userId), [updated]);
        assert.deepEqual(await store.getDeviceSessions(session.deviceId!), [updated]);
      }));

    it('updateSession with extendTtl moves the TTL and index scores to the new expiresAt', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), { expiresAt: t + 300 }, t);
        await store.createSession(session);
        const extended = { ...session, lastActivity: t + 1, expiresAt: t + 60_000 };
        assert.equal(await store.updateSession(extended, { extendTtl: true }), true);
        await passTime(ctx, 600);
        assert.deepEqual(
          await store.getSession(session.sessionId),
          extended,
          'still live past the old expiry',
        );
        assert.deepEqual(ids(await store.getUserSessions(session.userId)), [session.sessionId]);
        assert.deepEqual(ids(await store.getDeviceSessions(session.deviceId!)), [session.sessionId]);
        assert.equal(await store.cleanupExpiredSessions(), 0, 'the index scores moved too');
        assert.deepEqual(ids(await store.getUserSessions(session.userId)), [session.sessionId]);
      }));

    it('updateSession without extendTtl keeps the TTL', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), { expiresAt: t + 300 }, t);
        await store.createSession(session);
        const updated = { ...session, lastEndpoint: '/api/positions', expiresAt: t + 60_000 };
        assert.equal(await store.updateSession(updated), true);
        await assertExpires(
          ctx,
          300,
          async () => (await store.getSession(session.sessionId)) !== null,
          'session updated without extendTtl',
        );
      }));

    it('updateSession with ifLastActivityAtOrBefore writes only over an older lastActivity', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), { expiresAt: t + 60_000 }, t);
        await store.createSession(session);
        // Another instance recorded activity at t + 5000 (the write this one raced).
        const first = { ...updateSessionActivity(session, t + 5000, '/a'), expiresAt: t + 65_000 };
        assert.equal(
          await store.updateSession(first, { extendTtl: true, ifLastActivityAtOrBefore: t }),
          true,
        );
        // This one read lastActivity t too and asks for the same condition: held back, still live.
        const second = { ...updateSessionActivity(session, t + 5001, '/b'), expiresAt: t + 65_001 };
        assert.equal(
          await store.updateSession(second, { extendTtl: true, ifLastActivityAtOrBefore: t }),
          true,
        );
        assert.deepEqual(await store.getSession(session.sessionId), first, 'the first write stands');
        // A condition the stored lastActivity meets writes (a lastActivity exactly at it included).
        assert.equal(
          await store.updateSession(second, { extendTtl: true, ifLastActivityAtOrBefore: t + 5000 }),
          true,
        );
        assert.deepEqual(await store.getSession(session.sessionId), second);
        // An ended session is still false, condition or not.
        await store.deleteSession(session.sessionId);
        assert.equal(await store.updateSession(second, { ifLastActivityAtOrBefore: t + 10_000 }), false);
      }));

    it('updateSession never resurrects a deleted session', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        await store.createSession(session);
        await store.deleteSession(session.sessionId);
        assert.equal(await store.updateSession({ ...session, lastEndpoint: '/x' }), false);
        assert.equal(
          await store.updateSession({ ...session, lastEndpoint: '/x' }, { extendTtl: true }),
          false,
        );
        assert.equal(await store.getSession(session.sessionId), null);
        assert.deepEqual(await store.getUserSessions(session.userId, { activeOnly: false }), []);
        assert.deepEqual(await store.getDeviceSessions(session.deviceId!), []);
      }));

    it('updateSession never resurrects an expired session', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), { expiresAt: t + 300 }, t);
        await store.createSession(session);
        await passTime(ctx, 300);
        const later = now(ctx);
        const revived = { ...session, lastActivity: later, expiresAt: later + 60_000 };
        assert.equal(await store.updateSession(revived, { extendTtl: true }), false);
        assert.equal(await store.getSession(session.sessionId), null);
        assert.deepEqual(await store.getUserSessions(session.userId), []);
      }));

    it('updateSession of a session that never existed returns false and writes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        assert.equal(await store.updateSession(session, { extendTtl: true }), false);
        assert.equal(await store.getSession(session.sessionId), null);
        assert.deepEqual(await store.getUserSessions(session.userId, { activeOnly: false }), []);
      }));

    it('getUserSessions with activeOnly false keeps expired sessions whose record still exists', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), { expiresAt: t + 10_000 }, t);
        await store.createSession(session);
        // Without extendTtl the record keeps its 10 s TTL while the session itself expires sooner.
        const shortened = { ...session, expiresAt: t + 300 };
        assert.equal(await store.updateSession(shortened), true);
        await passTime(ctx, 300);
        assert.equal(await store.getSession(session.sessionId), null, 'an expired session is not live');
        assert.deepEqual(await store.getUserSessions(session.userId), []);
        assert.deepEqual(await store.getUserSessions(session.userId, { activeOnly: true }), []);
        assert.deepEqual(await store.getUserSessions(session.userId, { activeOnly: false }), [shortened]);
      }));

    it('deleteSession ends the session and returns it; a second delete returns null', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        await store.createSession(session);
        assert.deepEqual(await store.deleteSession(session.sessionId), session);
        assert.equal(await store.getSession(session.sessionId), null);
        assert.deepEqual(await store.getUserSessions(session.userId, { activeOnly: false }), []);
        assert.deepEqual(await store.getDeviceSessions(session.deviceId!), []);
        assert.equal(await store.deleteSession(session.sessionId), null);
        assert.equal(await store.deleteSession(newUserScopedId(session.userId)), null);
      }));

    it('rotateSessionId moves a live session to the new id atomically', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        await store.createSession(session);
        const newId = newUserScopedId(session.userId);
        const moved = await store.rotateSessionId(session.sessionId, newId);
        assert.deepEqual(moved, { ...session, sessionId: newId });
        assert.equal(await store.getSession(session.sessionId), null);
        assert.deepEqual(await store.getSession(newId), moved);
        assert.deepEqual(ids(await store.getUserSessions(session.userId, { activeOnly: false })), [newId]);
        assert.deepEqual(ids(await store.getDeviceSessions(session.deviceId!)), [newId]);
        assert.equal(await store.deleteSession(session.sessionId), null, 'the old id is dead');
      }));

    it('rotateSessionId returns null when the old session is not live', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const unknownNew = newUserScopedId(userId);
        assert.equal(await store.rotateSessionId(newUserScopedId(userId), unknownNew), null);
        const session = makeSession(userId, {}, now(ctx));
        await store.createSession(session);
        await store.deleteSession(session.sessionId);
        assert.equal(await store.rotateSessionId(session.sessionId, unknownNew), null);
        assert.equal(await store.getSession(unknownNew), null);
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);
      }));

    it('rotateSessionId requires the new id to carry the same user tag', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        await store.createSession(session);
        const foreign = newUserScopedId(uniqueUserId());
        await assertRejectsAll(
          [foreign],
          'ERR_INVALID_ID',
          (id) => store.rotateSessionId(session.sessionId, id),
          'rotate',
        );
        assert.deepEqual(await store.getSession(session.sessionId), session);
        assert.equal(await store.getSession(foreign), null);
      }));

    it('concurrent rotateSessionId calls on one session: exactly one wins', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const session = makeSession(uniqueUserId(), {}, now(ctx));
        await store.createSession(session);
        const newIds = Array.from({ length: 20 }, () => newUserScopedId(session.userId));
        const results = await Promise.all(newIds.map((id) => store.rotateSessionId(session.sessionId, id)));
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1, 'exactly one rotation succeeds');
        const winner = winners[0]!.sessionId;
        assert.deepEqual(ids(await store.getUserSessions(session.userId, { activeOnly: false })), [winner]);
        assert.deepEqual(await liveIds(ctx, [session.sessionId, ...newIds]), [winner]);
      }));

    it('deleteUserSessions ends every session of the user and returns them', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const mine = [0, 1, 2].map((i) => makeSession(userId, { createdAt: t - i }, t));
        const theirs = makeSession(uniqueUserId(), {}, t);
        for (const s of [...mine, theirs]) await store.createSession(s);
        const ended = await store.deleteUserSessions(userId);
        assert.deepEqual(sorted(ids(ended)), sorted(ids(mine)));
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);
        assert.deepEqual(await liveIds(ctx, ids(mine)), []);
        for (const s of mine) assert.deepEqual(await store.getDeviceSessions(s.deviceId!), []);
        assert.deepEqual(
          await store.getSession(theirs.sessionId),
          theirs,
          "another user's session is untouched",
        );
        assert.deepEqual(await store.deleteUserSessions(userId), []);
      }));

    it('deleteUserSessions keeps exceptSessionId', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const [a, b, c] = [0, 1, 2].map((i) => makeSession(userId, { createdAt: t - i }, t)) as [
          Session,
          Session,
          Session,
        ];
        for (const s of [a, b, c]) await store.createSession(s);
        const ended = await store.deleteUserSessions(userId, { exceptSessionId: b.sessionId });
        assert.deepEqual(sorted(ids(ended)), sorted([a.sessionId, c.sessionId]));
        assert.deepEqual(await store.getUserSessions(userId), [b]);
        assert.deepEqual(await store.getSession(b.sessionId), b);
      }));

    it('maxSessions with evict-oldest evicts the oldest by createdAt and returns them oldest first', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const deviceId = uniqueDeviceId();
        const t = now(ctx);
        const [s1, s2, s3] = [3000, 2000, 1000].map((age) =>
          makeSession(userId, { deviceId, createdAt: t - age }, t),
        ) as [Session, Session, Session];
        // Written out of age order: the cap must go by createdAt, not by write order.
        for (const s of [s2, s3, s1]) await store.createSession(s);
        const s4 = makeSession(userId, { deviceId }, t);
        assert.deepEqual(await store.createSession(s4, { maxSessions: 3 }), { evicted: [s1.sessionId] });
        const s5 = makeSession(userId, { deviceId, createdAt: t + 1 }, t);
        assert.deepEqual(await store.createSession(s5, { maxSessions: 2, onLimit: 'evict-oldest' }), {
          evicted: [s2.sessionId, s3.sessionId],
        });
        assert.deepEqual(await store.getUserSessions(userId), [s5, s4]);
        assert.deepEqual(await store.getDeviceSessions(deviceId), [s5, s4]);
        assert.deepEqual(await liveIds(ctx, ids([s1, s2, s3])), []);
      }));

    it('maxSessions with deny rejects with SessionLimitError and writes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const [a, b] = [makeSession(userId, {}, t), makeSession(userId, {}, t)];
        for (const s of [a, b]) {
          assert.deepEqual(await store.createSession(s, { maxSessions: 2, onLimit: 'deny' }), {
            evicted: [],
          });
        }
        const c = makeSession(userId, {}, t);
        await assert.rejects(store.createSession(c, { maxSessions: 2, onLimit: 'deny' }), (err: unknown) => {
          assert.ok(err instanceof SessionLimitError, String(err));
          assert.equal(err.code, 'ERR_SESSION_LIMIT');
          assert.equal(err.limit, 2);
          assert.equal(err.userId, userId);
          return true;
        });
        assert.equal(await store.getSession(c.sessionId), null);
        assert.deepEqual(
          sorted(ids(await store.getUserSessions(userId, { activeOnly: false }))),
          sorted(ids([a, b])),
        );
        assert.deepEqual(await store.getDeviceSessions(c.deviceId!), []);
        await store.deleteSession(a.sessionId);
        assert.deepEqual(await store.createSession(c, { maxSessions: 2, onLimit: 'deny' }), { evicted: [] });
      }));

    it('only live sessions count toward maxSessions', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        for (let i = 0; i < 2; i++) await store.createSession(makeSession(userId, { expiresAt: t + 300 }, t));
        await passTime(ctx, 300);
        const later = now(ctx);
        const fresh = makeSession(userId, {}, later);
        assert.deepEqual(await store.createSession(fresh, { maxSessions: 2, onLimit: 'deny' }), {
          evicted: [],
        });
        const fresh2 = makeSession(userId, {}, later);
        assert.deepEqual(await store.createSession(fresh2, { maxSessions: 2 }), { evicted: [] });
        assert.deepEqual(sorted(ids(await store.getUserSessions(userId))), sorted(ids([fresh, fresh2])));
      }));

    it('cleanupExpiredSessions prunes expired members from the user and device indexes', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const deviceId = uniqueDeviceId();
        const t = now(ctx);
        await store.createSession(makeSession(userId, { deviceId, expiresAt: t + 300 }, t));
        await store.createSession(makeSession(userId, { deviceId, expiresAt: t + 300 }, t));
        const lasting = makeSession(userId, {}, t);
        await store.createSession(lasting);
        assert.equal(await store.cleanupExpiredSessions(), 0, 'nothing has expired yet');
        await passTime(ctx, 300);
        // Two user-index members and two device-index members.
        assert.equal(await store.cleanupExpiredSessions(), 4);
        assert.equal(await store.cleanupExpiredSessions(), 0, 'a second pass finds nothing');
        assert.deepEqual(await store.getUserSessions(userId), [lasting]);
        assert.deepEqual(await store.getDeviceSessions(lasting.deviceId!), [lasting]);
      }));

    it('rejects bad ids with ERR_INVALID_ID and writes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const valid = makeSession(userId, {}, t);
        await assertRejectsAll(
          badScopedIds(userId),
          'ERR_INVALID_ID',
          (sessionId) => store.createSession({ ...valid, sessionId }),
          'createSession.sessionId',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (bad) => store.createSession(makeSession(bad, {}, t)),
          'createSession.userId',
        );
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (deviceId) => store.createSession({ ...valid, deviceId }),
          'createSession.deviceId',
        );
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);

        await store.createSession(valid);
        const scoped = badScopedIds(userId);
        await assertRejectsAll(scoped, 'ERR_INVALID_ID', (id) => store.getSession(id), 'getSession');
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (sessionId) => store.updateSession({ ...valid, sessionId }),
          'updateSession.sessionId',
        );
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (deviceId) => store.updateSession({ ...valid, deviceId }),
          'updateSession.deviceId',
        );
        await assertRejectsAll(scoped, 'ERR_INVALID_ID', (id) => store.deleteSession(id), 'deleteSession');
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (id) => store.rotateSessionId(id, newUserScopedId(userId)),
          'rotateSessionId.old',
        );
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (id) => store.rotateSessionId(valid.sessionId, id),
          'rotateSessionId.new',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (id) => store.getUserSessions(id),
          'getUserSessions',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (id) => store.deleteUserSessions(id),
          'deleteUserSessions',
        );
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (id) => store.deleteUserSessions(userId, { exceptSessionId: id }),
          'deleteUserSessions.exceptSessionId',
        );
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (id) => store.getDeviceSessions(id),
          'getDeviceSessions',
        );
        assert.deepEqual(await store.getUserSessions(userId), [valid], 'the valid session is untouched');
      }));

    it('200 concurrent creates and deletes for one user leave the index equal to the live sessions', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const deviceId = uniqueDeviceId();
        const t = now(ctx);
        const existing = Array.from({ length: 100 }, () => makeSession(userId, { deviceId }, t));
        for (const s of existing) await store.createSession(s);
        const fresh = Array.from({ length: 100 }, () => makeSession(userId, { deviceId }, t));
        await Promise.all(
          shuffle([
            ...fresh.map((s) => () => store.createSession(s)),
            ...existing.map((s) => () => store.deleteSession(s.sessionId)),
          ]).map((op) => op()),
        );
        const all = ids([...existing, ...fresh]);
        assert.deepEqual(await liveIds(ctx, all), sorted(ids(fresh)));
        assert.deepEqual(
          sorted(ids(await store.getUserSessions(userId, { activeOnly: false }))),
          sorted(ids(fresh)),
        );
        assert.deepEqual(sorted(ids(await store.getDeviceSessions(deviceId))), sorted(ids(fresh)));

        // Now each delete races the create of the same session: either order may win, but the
        // index must agree with what is live.
        const racing = Array.from({ length: 100 }, () => makeSession(userId, { deviceId }, t));
        await Promise.all(
          shuffle([
            ...racing.map((s) => () => store.createSession(s)),
            ...racing.map((s) => () => store.deleteSession(s.sessionId)),
          ]).map((op) => op()),
        );
        const live = await liveIds(ctx, [...all, ...ids(racing)]);
        assert.deepEqual(sorted(ids(await store.getUserSessions(userId, { activeOnly: false }))), live);
        assert.deepEqual(sorted(ids(await store.getDeviceSessions(deviceId))), live);
      }));

    it('1000 concurrent creates with maxSessions 5 and evict-oldest leave exactly 5 live sessions', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const sessions = Array.from({ length: 1000 }, (_, i) => makeSession(userId, { createdAt: t + i }, t));
        const results = await Promise.all(
          sessions.map((s) => store.createSession(s, { maxSessions: 5, onLimit: 'evict-oldest' })),
        );
        const live = await liveIds(ctx, ids(sessions));
        assert.equal(live.length, 5);
        assert.deepEqual(sorted(ids(await store.getUserSessions(userId, { activeOnly: false }))), live);
        const evicted = results.flatMap((r) => r.evicted);
        assert.equal(evicted.length, 995, 'every create past the cap evicted exactly one session');
        assert.equal(new Set(evicted).size, 995, 'no session was evicted twice');
        assert.deepEqual(sorted([...evicted, ...live]), sorted(ids(sessions)));
      }));

    it('1000 concurrent creates with maxSessions 5 and deny: exactly 5 succeed', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const sessions = Array.from({ length: 1000 }, () => makeSession(userId, {}, t));
        const results = await Promise.allSettled(
          sessions.map((s) => store.createSession(s, { maxSessions: 5, onLimit: 'deny' })),
        );
        const succeeded = sessions.filter((_, i) => results[i]!.status === 'fulfilled');
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(succeeded.length, 5);
        assert.equal(failed.length, 995);
        for (const r of failed) assert.equal((r.reason as { code?: string }).code, 'ERR_SESSION_LIMIT');
        const live = await liveIds(ctx, ids(sessions));
        assert.deepEqual(live, sorted(ids(succeeded)));
        assert.deepEqual(sorted(ids(await store.getUserSessions(userId, { activeOnly: false }))), live);
      }));

    it('an update racing a delete never resurrects the session', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const deviceId = uniqueDeviceId();
        const t = now(ctx);
        const sessions = Array.from({ length: 50 }, () => makeSession(userId, { deviceId }, t));
        for (const s of sessions) await store.createSession(s);
        await Promise.all(
          sessions.flatMap((s, i) => {
            const update = () =>
              store.updateSession(
                { ...s, lastEndpoint: '/api/race', expiresAt: t + 60 * 60_000 },
                { extendTtl: true },
              );
            const del = () => store.deleteSession(s.sessionId);
            return (i % 2 === 0 ? [update, del] : [del, update]).map((op) => op());
          }),
        );
        assert.deepEqual(await liveIds(ctx, ids(sessions)), []);
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);
        assert.deepEqual(await store.getDeviceSessions(deviceId), []);
        assert.equal(await store.updateSession({ ...sessions[0]!, lastEndpoint: '/late' }), false);
        assert.equal(await store.getSession(sessions[0]!.sessionId), null);
      }));

    it("a session id of another user's slot is refused with ERR_INVALID_ID, writing nothing", () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const foreignId = newUserScopedId(uniqueUserId());
        const valid = makeSession(userId, {}, t);
        await assertRejectsAll(
          [foreignId],
          'ERR_INVALID_ID',
          (sessionId) => store.createSession({ ...valid, sessionId }),
          'createSession',
        );
        assert.equal(await store.getSession(foreignId), null);
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);
        await store.createSession(valid);
        await assertRejectsAll(
          [foreignId],
          'ERR_INVALID_ID',
          (sessionId) => store.updateSession({ ...valid, sessionId }, { extendTtl: true }),
          'updateSession',
        );
        assert.deepEqual(await store.getUserSessions(userId), [valid]);
      }));

    it('createSession refuses expiresAt <= now or past absoluteExpiresAt (ERR_INVALID_ARGUMENT), writing nothing', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const bad = [
          makeSession(userId, { expiresAt: t }, t),
          makeSession(userId, { expiresAt: t - 1 }, t),
          makeSession(userId, { expiresAt: t + 2000, absoluteExpiresAt: t + 1000 }, t),
          makeSession(userId, { expiresAt: Number.NaN }, t),
          // Finite but past any date: Redis would refuse "1e+21" as an argument (a store error).
          makeSession(userId, { expiresAt: 1e21, absoluteExpiresAt: 1e21 }, t),
        ];
        await assertRejectsAll(bad, 'ERR_INVALID_ARGUMENT', (s) => store.createSession(s), 'createSession');
        for (const s of bad) assert.equal(await store.getSession(s.sessionId), null);
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);
      }));

    it('updateSession with extendTtl refuses expiresAt <= now (ERR_INVALID_ARGUMENT) and keeps the session', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const t = now(ctx);
        const session = makeSession(uniqueUserId(), {}, t);
        await store.createSession(session);
        await assertRejectsAll(
          [t, t - 1],
          'ERR_INVALID_ARGUMENT',
          (expiresAt) => store.updateSession({ ...session, expiresAt }, { extendTtl: true }),
          'updateSession',
        );
        assert.deepEqual(await store.getSession(session.sessionId), session);
      }));

    it('maxSessions below 1 and an unknown onLimit are refused (ERR_INVALID_ARGUMENT)', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        await assertRejectsAll(
          [0, -1, 1.5, Number.NaN],
          'ERR_INVALID_ARGUMENT',
          (maxSessions) => store.createSession(makeSession(userId, {}, t), { maxSessions }),
          'maxSessions',
        );
        await assertRejectsAll(
          ['kick-oldest'],
          'ERR_INVALID_ARGUMENT',
          (onLimit) =>
            store.createSession(makeSession(userId, {}, t), {
              maxSessions: 1,
              onLimit: onLimit as 'deny',
            }),
          'onLimit',
        );
        assert.deepEqual(await store.getUserSessions(userId, { activeOnly: false }), []);
      }));

    it('rotateSessionId to the same id or to an id in use is refused (ERR_INVALID_ARGUMENT), changing nothing', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const a = makeSession(userId, { createdAt: t - 1 }, t);
        const b = makeSession(userId, {}, t);
        for (const s of [a, b]) await store.createSession(s);
        await assertRejectsAll(
          [a.sessionId, b.sessionId],
          'ERR_INVALID_ARGUMENT',
          (newId) => store.rotateSessionId(a.sessionId, newId),
          'rotateSessionId',
        );
        assert.deepEqual(await store.getUserSessions(userId), [b, a]);
      }));

    it('a create prunes the expired members of the user and device indexes it writes to', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const deviceId = uniqueDeviceId();
        const t = now(ctx);
        const expiring = [0, 1].map(() => makeSession(userId, { deviceId, expiresAt: t + 300 }, t));
        for (const s of expiring) await store.createSession(s);
        await assertExpires(ctx, 300, async () => (await liveIds(ctx, ids(expiring))).length > 0, 'sessions');
        const fresh = makeSession(userId, { deviceId }, now(ctx));
        await store.createSession(fresh);
        // Nothing left for the sweeper: the write itself removed the expired members.
        assert.equal(await store.cleanupExpiredSessions(), 0);
        assert.deepEqual(await store.getUserSessions(userId), [fresh]);
      }));
  });
}
