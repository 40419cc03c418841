/**
 * Off Cluster a login is one command: `session_create.lua` writes the device-index entry with the
 * session, its indexes and its events (on Cluster the device index is on another slot, and the
 * two-step login runs: test/topologies/cluster.test.ts). Here, what reaches Redis and what it
 * holds afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { LuaScript } from '../../src/connection/commands.js';
import { INDEX_TTL_SLACK_MS } from '../../src/stores/redis/context.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import { makeSession, uniqueUserId } from '../helpers/fixtures.js';
import { adminRedis } from '../helpers/redis-admin.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sharedClient } from './stores.js';

async function setup() {
  const client = await sharedClient();
  const keyPrefix = uniquePrefix();
  const clock = new ManualClock(Date.now());
  const ids = await loadIdCodec(client, { keyPrefix });
  const stores = createRedisStores(client, { keyPrefix, ids, clock });
  // The scripts this test's logins send (the client is the file's: counted only while asked).
  const sent: string[] = [];
  const runScript = client.runScript;
  client.runScript = function (this: typeof client, script: LuaScript, ...rest) {
    sent.push(script.name);
    return runScript.call(this, script, ...rest);
  };
  const restore = () => {
    client.runScript = runScript;
  };
  // Where REDIS_URL names a Cluster, the device entry is a step of its own, before the create.
  const first = client.topology === 'cluster' ? ['session_device_add'] : [];
  return { stores, clock, ids, keys: createKeySchema(keyPrefix, ids), sent, restore, first };
}

describe('Redis session store: the one-step login (off Cluster)', () => {
  it('writes the device entry, the session and both events in one script', async () => {
    const { stores, clock, ids, keys, sent, restore, first: step1 } = await setup();
    const admin = await adminRedis();
    try {
      const userId = uniqueUserId();
      const session = { ...makeSession(userId, {}, clock.now()), sessionId: ids.newId(userId) };
      const device = session.deviceId!;
      const events = {
        created: { type: 'session_created', userId, sessionId: session.sessionId },
        newDevice: { type: 'new_device', userId, severity: 'warning' as const, sessionId: session.sessionId },
      };
      const result = await stores.sessionStore.createSession(session, {
        maxSessions: 5,
        events,
        reportDeviceSeen: true,
      });
      assert.deepEqual(sent, [...step1, 'session_create']);
      assert.deepEqual(result, { evicted: [], deviceSeen: false });
      const deviceIndex = keys.deviceSessions(device);
      assert.equal(await admin.zScore(deviceIndex, session.sessionId), session.expiresAt);
      // The device index lives as long as its latest member plus the slack (Redis's clock, so a
      // window, not an exact value).
      const ttl = await admin.pTTL(deviceIndex);
      const wanted = session.expiresAt - clock.now() + INDEX_TTL_SLACK_MS;
      assert.ok(ttl > wanted - 60_000 && ttl <= wanted, `device index TTL ${ttl}, wanted ~${wanted}`);
      assert.deepEqual(
        (await stores.sessionStore.getDeviceSessions(device)).map((s) => s.sessionId),
        [session.sessionId],
      );
      const types = (await stores.securityEvents.listUserEvents(userId)).map((e) => e.type).sort();
      assert.deepEqual(types, ['new_device', 'session_created']);

      // The same user on the same device again: seen (decided from the device index in the
      // script), so no new_device event; still one command.
      sent.length = 0;
      const again = {
        ...makeSession(userId, { deviceId: device }, clock.now()),
        sessionId: ids.newId(userId),
      };
      const second = await stores.sessionStore.createSession(again, {
        maxSessions: 5,
        events: { created: { ...events.created, sessionId: again.sessionId } },
        reportDeviceSeen: true,
      });
      assert.deepEqual(sent, [...step1, 'session_create']);
      assert.deepEqual(second, { evicted: [], deviceSeen: true });
      assert.deepEqual(
        (await stores.sessionStore.getDeviceSessions(device)).map((s) => s.sessionId).sort(),
        [session.sessionId, again.sessionId].sort(),
      );
    } finally {
      restore();
      await admin.close();
    }
  });

  it('at the cap: the second call (records declared) writes the device entry, the first writes nothing', async () => {
    const { stores, clock, ids, keys, sent, restore, first: step1 } = await setup();
    const admin = await adminRedis();
    try {
      const userId = uniqueUserId();
      const first = { ...makeSession(userId, {}, clock.now()), sessionId: ids.newId(userId) };
      await stores.sessionStore.createSession(first, { maxSessions: 1 });
      clock.advance(1000);
      const next = { ...makeSession(userId, {}, clock.now()), sessionId: ids.newId(userId) };
      sent.length = 0;
      const result = await stores.sessionStore.createSession(next, { maxSessions: 1 });
      assert.deepEqual(result.evicted, [first.sessionId]);
      // declare, then create; then the evicted session leaves its device index.
      assert.deepEqual(sent, [...step1, 'session_create', 'session_create', 'family_drop']);
      assert.equal(await admin.zScore(keys.deviceSessions(next.deviceId!), next.sessionId), next.expiresAt);
      assert.equal(await admin.zScore(keys.deviceSessions(first.deviceId!), first.sessionId), null);
    } finally {
      restore();
      await admin.close();
    }
  });
});
