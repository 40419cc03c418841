/**
 * Redis-only behaviour the contract suites cannot see: the script cache being flushed (NOSCRIPT),
 * the server restarting under a live client, and Redis's own TTLs really expiring records.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { ManualClock } from '../../src/core/clock.js';
import { RedisClient } from '../../src/connection/client.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { makeSession, uniqueDeviceId, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import { type RedisServerHandle, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` every 25 ms until it returns true; fails after `timeoutMs`. Returns the time taken. */
async function eventually(what: string, timeoutMs: number, fn: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await fn().catch(() => false)) return Date.now() - start;
    assert.ok(Date.now() - start < timeoutMs, `${what}: not within ${timeoutMs} ms`);
    await sleep(25);
  }
}

describe('Redis stores: resilience', () => {
  let server: RedisServerHandle;
  let client: RedisClient;
  let admin: ReturnType<typeof createClient>;

  before(async () => {
    server = await startRedisServer();
    client = new RedisClient({ url: server.url, commandTimeoutMs: 2000 });
    await client.connect();
    admin = createClient({ url: server.url });
    admin.on('error', () => {});
    await admin.connect();
  });

  after(async () => {
    await client.close();
    await admin.close().catch(() => {});
    await server.stop();
  });

  it('recovers from SCRIPT FLUSH: the next call reloads the script (NOSCRIPT → EVAL)', async () => {
    const stores = createRedisStores(client, { keyPrefix: uniquePrefix() });
    const userId = uniqueUserId();
    const first = makeSession(userId);
    await stores.sessionStore.createSession(first);
    assert.deepEqual(await stores.sessionStore.getSession(first.sessionId), first);

    await admin.scriptFlush();
    const second = makeSession(userId);
    // Every script-backed operation must still work, once per script.
    await stores.sessionStore.createSession(second, { maxSessions: 5 });
    assert.deepEqual(await stores.sessionStore.getSession(second.sessionId), second);
    assert.equal(await stores.sessionStore.updateSession({ ...second, lastEndpoint: '/x' }), true);
    assert.deepEqual(await stores.sessionStore.deleteSession(first.sessionId), first);

    await admin.scriptFlush();
    await Promise.all(
      Array.from({ length: 20 }, () => stores.sessionStore.createSession(makeSession(userId))),
    ); // many at once, all hitting NOSCRIPT on the same flushed cache
    assert.equal((await stores.sessionStore.getUserSessions(userId)).length, 21);
  });

  it('a session really expires by Redis TTL: record and indexes go, without any sweeper', async () => {
    const keyPrefix = uniquePrefix();
    const stores = createRedisStores(client, { keyPrefix });
    const t = Date.now();
    const session = makeSession(uniqueUserId(), { expiresAt: t + 1000 }, t);
    await stores.sessionStore.createSession(session);
    assert.ok(await stores.sessionStore.getSession(session.sessionId));
    const sessionKeys = async () => {
      const keys: string[] = [];
      for await (const batch of admin.scanIterator({ MATCH: `${keyPrefix}session:*`, COUNT: 1000 })) {
        keys.push(...batch);
      }
      return keys;
    };
    assert.equal((await sessionKeys()).length, 1);

    const took = await eventually('session gone', 4000, async () => {
      return (await stores.sessionStore.getSession(session.sessionId)) === null;
    });
    assert.ok(took >= 700, `gone after ${took} ms, before its 1 s life`);
    // The record key itself is gone from Redis (its PX), not merely hidden by the store's clock.
    await eventually('record key gone', 2000, async () => (await sessionKeys()).length === 0);
    assert.deepEqual(await stores.sessionStore.getUserSessions(session.userId, { activeOnly: false }), []);
  });

  it('a blacklist entry with a 1 s TTL is gone from Redis after it', async () => {
    const keyPrefix = uniquePrefix();
    const stores = createRedisStores(client, { keyPrefix });
    const jti = uniqueJti();
    await stores.tokenBlacklist.blacklistToken({ jti, ttlSeconds: 1, reason: 'user_logout' });
    const pttl = await admin.pTTL(`${keyPrefix}token:blacklist:${jti}`);
    assert.ok(pttl > 800 && pttl <= 1000, `PTTL ${pttl}`);
    await eventually(
      'entry gone',
      3000,
      async () => (await admin.exists(`${keyPrefix}token:blacklist:${jti}`)) === 0,
    );
    assert.equal(await stores.tokenBlacklist.isBlacklisted(jti), false);
  });

  it('works again after the server restarts, without recreating the client', async (t) => {
    const stores = createRedisStores(client, { keyPrefix: uniquePrefix() });
    const userId = uniqueUserId();
    await stores.sessionStore.createSession(makeSession(userId));

    await server.restart(); // no persistence: data and script cache are gone
    const session = makeSession(userId, { deviceId: uniqueDeviceId() });
    const took = await eventually('store usable after restart', 10_000, async () => {
      await stores.sessionStore.createSession(session);
      return true;
    });
    assert.deepEqual(await stores.sessionStore.getSession(session.sessionId), session);
    assert.deepEqual(await stores.sessionStore.getDeviceSessions(session.deviceId!), [session]);
    await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 60, reason: 'x' });
    t.diagnostic(`usable again ${took} ms after the restart`);
    // The admin connection reconnects too (for the tests after this one).
    await eventually('admin reconnected', 5000, async () => (await admin.ping()) === 'PONG');
  });

  it('while the server is down, operations reject with a store error, not a hang', async () => {
    const stores = createRedisStores(client, { keyPrefix: uniquePrefix(), clock: new ManualClock() });
    const down = server.process;
    down.kill('SIGSTOP'); // frozen: connections stay open but nothing answers
    try {
      const start = Date.now();
      await assert.rejects(
        stores.sessionStore.getSession(makeSession(uniqueUserId()).sessionId),
        (err: unknown) => {
          assert.ok(
            ['ERR_STORE_TIMEOUT', 'ERR_STORE_UNAVAILABLE'].includes((err as { code?: string }).code ?? ''),
          );
          return true;
        },
      );
      assert.ok(Date.now() - start < 4000, 'rejected within the deadline');
    } finally {
      down.kill('SIGCONT');
    }
    await eventually('answers again', 10_000, async () => {
      await stores.tokenBlacklist.isBlacklisted(uniqueJti());
      return true;
    });
  });
});
