/**
 * Cross-slot work is a sequence of single-slot steps ordered so that a crash between two steps
 * leaves nothing live that should not be. These tests build the state each crash would leave (by
 * writing the keys directly) and check that reads ignore it and cleanup removes it. They also run
 * cleanup with a manual clock, which the maintenance contract runs on real time only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { newUserScopedId } from '../../src/core/ids.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { sessionCreate } from '../../src/stores/redis/lua/session_create.js';
import { encodeSession } from '../../src/stores/redis/records.js';
import {
  makeSession,
  makeTrustedDevice,
  uniqueDeviceId,
  uniqueJti,
  uniqueUserId,
} from '../helpers/fixtures.js';
import { adminRedis } from '../helpers/redis-admin.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sharedClient } from './stores.js';

async function setup(eventTtlSeconds?: number) {
  const client = await sharedClient();
  const keyPrefix = uniquePrefix();
  const clock = new ManualClock(Date.now());
  const stores = createRedisStores(client, {
    keyPrefix,
    clock,
    ...(eventTtlSeconds === undefined ? {} : { securityEventTtlSeconds: eventTtlSeconds }),
  });
  const admin = await adminRedis();
  return { stores, clock, keys: createKeySchema(keyPrefix), admin };
}

describe('Redis stores: crash safety between single-slot steps', () => {
  it('a device-index entry whose session was never created (crash after step 1) is ignored and swept', async () => {
    const { stores, clock, keys, admin } = await setup();
    try {
      const session = makeSession(uniqueUserId(), {}, clock.now());
      // Step 1 of createSession landed, step 2 (the script) did not.
      await admin.zAdd(keys.deviceSessions(session.deviceId!), {
        score: session.expiresAt,
        value: session.sessionId,
      });
      assert.deepEqual(await stores.sessionStore.getDeviceSessions(session.deviceId!), []);
      assert.equal(await stores.sessionStore.getSession(session.sessionId), null);
      assert.equal(await stores.sessionStore.cleanupExpiredSessions(), 1);
      assert.equal(await admin.exists(keys.deviceSessions(session.deviceId!)), 0);
    } finally {
      await admin.close();
    }
  });

  it("a sweep between a login's device-index add and its create: the login adds its entry again", async () => {
    const { stores, clock, keys, admin } = await setup();
    try {
      const session = makeSession(uniqueUserId(), {}, clock.now());
      const deviceIndex = keys.deviceSessions(session.deviceId!);
      const swept = keys.userSweptSessions(session.userId);
      // Step 1 landed; a sweep runs before step 2: it removes the entry and notes the id.
      await admin.zAdd(deviceIndex, { score: session.expiresAt, value: session.sessionId });
      assert.equal(await stores.sessionStore.cleanupExpiredSessions(), 1);
      assert.equal(await admin.exists(deviceIndex), 0);
      assert.notEqual(await admin.zScore(swept, session.sessionId), null);
      // Step 2 sees the note (and clears it), and the entry is added again after it.
      const client = await sharedClient();
      const run = client.runScript.bind(client);
      // Step 2 alone (session_create.lua), for a session with no cap and no events.
      const create = (s: typeof session) =>
        sessionCreate(run, {
          userIndexKey: keys.userSessions(s.userId),
          recordKey: keys.session(s.sessionId),
          sweptKey: keys.userSweptSessions(s.userId),
          now: clock.now(),
          sessionId: s.sessionId,
          expiresAt: s.expiresAt,
          record: encodeSession(s),
          recordTtlMs: s.expiresAt - clock.now(),
          maxSessions: 0,
          onLimit: 'deny',
          indexTtlSlackMs: 1000,
          deviceCandidates: [],
          declared: null,
          events: null,
        });
      const reply = await create(session);
      assert.equal(reply.status === 'ok' && reply.swept, true);
      assert.equal(await admin.zScore(swept, session.sessionId), null);
      // Through the store: a login whose id a sweep noted ends with its device entry.
      const other = makeSession(session.userId, { deviceId: session.deviceId }, clock.now());
      await admin.zAdd(swept, { score: clock.now() + 60_000, value: other.sessionId });
      await stores.sessionStore.createSession(other);
      assert.notEqual(await admin.zScore(deviceIndex, other.sessionId), null);
      assert.equal(await admin.zScore(swept, other.sessionId), null);
      assert.deepEqual(
        (await stores.sessionStore.getDeviceSessions(session.deviceId!)).map((s) => s.sessionId),
        [other.sessionId],
      );
      // A login no sweep touched is not told to add its entry again.
      const third = makeSession(uniqueUserId(), {}, clock.now());
      const plain = await create(third);
      assert.equal(plain.status === 'ok' && plain.swept, false);
    } finally {
      await admin.close();
    }
  });

  it('an evicted record left behind (crash between the script and the DEL) is dead', async () => {
    const { stores, clock, keys, admin } = await setup();
    try {
      const userId = uniqueUserId();
      const evicted = makeSession(userId, {}, clock.now());
      await stores.sessionStore.createSession(evicted);
      // The script removed it from the user indexes; the caller crashed before deleting the record.
      await admin.zRem(keys.userSessions(userId), evicted.sessionId);
      await admin.zRem(keys.userSessionsCreated(userId), evicted.sessionId);
      assert.equal(await admin.exists(keys.session(evicted.sessionId)), 1);

      assert.equal(await stores.sessionStore.getSession(evicted.sessionId), null);
      assert.deepEqual(await stores.sessionStore.getUserSessions(userId, { activeOnly: false }), []);
      assert.deepEqual(await stores.sessionStore.getDeviceSessions(evicted.deviceId!), []);
      assert.equal(await stores.sessionStore.updateSession({ ...evicted, lastEndpoint: '/x' }), false);
      assert.equal(
        await stores.sessionStore.rotateSessionId(evicted.sessionId, newUserScopedId(userId)),
        null,
      );
      assert.equal(
        await stores.revocation.check({
          jti: uniqueJti(),
          userId,
          issuedAtMs: clock.now(),
          sessionId: evicted.sessionId,
        }),
        'session_ended',
      );
      // Its stale device entry is swept; the record itself expires by its TTL.
      assert.equal(await stores.sessionStore.cleanupExpiredSessions(), 1);
    } finally {
      await admin.close();
    }
  });

  it('a user-index member whose record vanished is not listed and is swept', async () => {
    const { stores, clock, keys, admin } = await setup();
    try {
      const userId = uniqueUserId();
      const kept = makeSession(userId, { deviceId: null }, clock.now());
      const lost = makeSession(userId, { deviceId: null }, clock.now());
      await stores.sessionStore.createSession(kept);
      await stores.sessionStore.createSession(lost);
      await admin.del(keys.session(lost.sessionId)); // e.g. evicted by maxmemory
      assert.deepEqual(await stores.sessionStore.getUserSessions(userId), [kept]);
      assert.equal(await stores.sessionStore.getSession(lost.sessionId), null);
      assert.equal(await stores.sessionStore.cleanupExpiredSessions(), 1);
      assert.equal(await admin.zScore(keys.userSessionsCreated(userId), lost.sessionId), null);
      assert.deepEqual(await stores.sessionStore.getUserSessions(userId), [kept]);
    } finally {
      await admin.close();
    }
  });

  it('a reused refresh token ends the session even if the device-index step never runs', async () => {
    const { stores, clock, keys, admin } = await setup();
    try {
      const userId = uniqueUserId();
      const deviceId = uniqueDeviceId();
      const session = makeSession(userId, { deviceId }, clock.now());
      await stores.sessionStore.createSession(session);
      const family = await stores.refreshFamilies.create({
        familyId: newUserScopedId(userId),
        userId,
        sessionId: session.sessionId,
        tokenHash: 'h0',
        ttlSeconds: 3600,
      });
      const rotate = (presentedHash: string) =>
        stores.refreshFamilies.rotate({
          familyId: family.familyId,
          presentedHash,
          nextHash: 'h-next',
          childBlob: 'c',
          graceMs: 0,
        });
      assert.equal((await rotate('h0')).status, 'rotated');
      clock.advance(1);
      const reused = await rotate('h0');
      assert.equal(reused.status, 'reused');
      // Put back what the second step removed, as if it had not run.
      await admin.zAdd(keys.deviceSessions(deviceId), { score: session.expiresAt, value: session.sessionId });
      await admin.zRem(keys.revokedFamilies(), family.familyId);
      assert.deepEqual(await stores.sessionStore.getDeviceSessions(deviceId), []);
      assert.equal(await stores.sessionStore.getSession(session.sessionId), null);
      assert.equal(await stores.tokenBlacklist.isFamilyRevoked(family.familyId), true);
      assert.equal((await rotate('h-next')).status, 'revoked');
    } finally {
      await admin.close();
    }
  });

  it('cleanup with a manual clock prunes exactly the expired members of every index', async () => {
    const { stores, clock, admin } = await setup(1);
    try {
      const userId = uniqueUserId();
      const t = clock.now();
      const expiring = makeSession(userId, { expiresAt: t + 300 }, t);
      const lasting = makeSession(userId, {}, t);
      await stores.sessionStore.createSession(expiring);
      await stores.sessionStore.createSession(lasting);
      await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 1, reason: 'x' });
      const lastingJti = uniqueJti();
      await stores.tokenBlacklist.blacklistToken({ jti: lastingJti, ttlSeconds: 3600, reason: 'x' });
      await stores.trustedDevices.trust(makeTrustedDevice(userId, { expiresAt: t + 300 }, t));
      const device = makeTrustedDevice(userId, {}, t);
      await stores.trustedDevices.trust(device);
      await stores.securityEvents.record({ type: 'session_created', userId });

      clock.advance(1000);
      const progress: number[] = [];
      const result = await stores.maintenance.cleanup((scanned) => progress.push(scanned));
      assert.deepEqual(
        [
          result.sessionIndexEntries,
          result.deviceIndexEntries,
          result.blacklistIndexEntries,
          result.trustedDeviceIndexEntries,
          result.securityEventIndexEntries,
        ],
        [1, 1, 1, 1, 1],
      );
      assert.ok(progress.length > 0);
      const again = await stores.maintenance.cleanup();
      assert.equal(
        again.sessionIndexEntries +
          again.deviceIndexEntries +
          again.blacklistIndexEntries +
          again.trustedDeviceIndexEntries +
          again.securityEventIndexEntries,
        0,
      );
      assert.deepEqual(await stores.sessionStore.getUserSessions(userId), [lasting]);
      assert.deepEqual(await stores.trustedDevices.listUserDevices(userId), [device]);
      assert.equal(await stores.tokenBlacklist.isBlacklisted(lastingJti), true);
    } finally {
      await admin.close();
    }
  });

  it('cleanup does nothing while another sweeper holds the lock, and releases only its own lock', async () => {
    const { stores, clock, keys, admin } = await setup();
    try {
      const t = clock.now();
      await stores.sessionStore.createSession(makeSession(uniqueUserId(), { expiresAt: t + 300 }, t));
      clock.advance(300);
      await admin.set(keys.cleanupLock(), 'another-instance', { PX: 60_000 });
      const blocked = await stores.maintenance.cleanup();
      assert.equal(blocked.scanned, 0);
      assert.equal(blocked.sessionIndexEntries, 0);
      assert.equal(blocked.skipped, true, 'says it did not run (the CLI exits 75 on it)');
      assert.equal(
        await admin.get(keys.cleanupLock()),
        'another-instance',
        'the other holder keeps its lock',
      );
      await admin.del(keys.cleanupLock());
      const ran = await stores.maintenance.cleanup();
      assert.equal(ran.sessionIndexEntries, 1);
      assert.equal(ran.skipped, undefined);
      assert.equal(await admin.exists(keys.cleanupLock()), 0, 'released after the run');
    } finally {
      await admin.close();
    }
  });
});
