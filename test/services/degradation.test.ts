/**
 * Redis-only behaviour of the services: two instances sharing one Redis, and failing closed while
 * Redis is down or hung, then recovering without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisClient } from '../../src/connection/client.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { login } from '../../src/services/login.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { type RedisServerHandle, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { TEST_SECRET } from './backends.js';

const DEADLINE_MS = 300;
/** The client-side cache's lease (the default). */
const LEASE_MS = 1000;

function instance(url: string, keyPrefix: string) {
  const redis = new RedisClient({
    url,
    keyPrefix,
    commandTimeoutMs: DEADLINE_MS,
    connectTimeoutMs: 2000,
    clientSideCache: { leaseMs: LEASE_MS },
  });
  const stores = createRedisStores(redis);
  const jwt = createJwtService({
    stores,
    keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
    issuer: 'optix-test',
    audience: 'optix-api',
  });
  const sessions = createSessionManager({ stores });
  return { redis, stores, jwt, sessions };
}

describe('services on Redis: two instances, outages', () => {
  let server: RedisServerHandle;
  const prefix = uniquePrefix();
  let a: ReturnType<typeof instance>;
  let b: ReturnType<typeof instance>;

  before(async () => {
    server = await startRedisServer();
    a = instance(server.url, prefix);
    b = instance(server.url, prefix);
    await Promise.all([a.redis.connect(), b.redis.connect()]);
  });
  after(async () => {
    await Promise.all([a?.redis.close(), b?.redis.close()]);
    await server?.stop();
  });

  it('a revoke through one instance is rejected by the other', async () => {
    const userId = uniqueUserId();
    const session = await a.sessions.createSession({ userId, ipAddress: '10.1.1.1', userAgent: USER_AGENT });
    const pairs = await Promise.all(
      Array.from({ length: 50 }, () => a.jwt.issueTokenPair({ userId, sessionId: session.sessionId })),
    );
    const delays: number[] = [];
    for (const pair of pairs) {
      await b.jwt.verifyToken(pair.accessToken);
      const start = performance.now();
      assert.equal(await a.jwt.revokeAccessToken(pair.accessToken, 'logout'), true);
      // Poll the other instance until it sees the revoke (bounded: 100 tries).
      let seen = false;
      for (let i = 0; i < 100 && !seen; i++) {
        seen = await b.jwt.verifyToken(pair.accessToken).then(
          () => false,
          (err: { code?: string }) => err.code === 'ERR_TOKEN_REVOKED',
        );
      }
      delays.push(performance.now() - start);
      assert.equal(seen, true);
    }
    delays.sort((x, y) => x - y);
    const p99 = delays[Math.floor(delays.length * 0.99) - 1] ?? delays.at(-1)!;
    console.log(
      `# revoke seen by the other instance: p50 ${delays[25]!.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
    );
    // The session ended at A is rejected at B too.
    await a.sessions.terminateSession(session.sessionId, 'logout');
    assert.equal(await b.sessions.validateSession(session.sessionId), null);
  });

  it('fails closed within the deadline while Redis is down or hung, and recovers by itself', async () => {
    const userId = uniqueUserId();
    const session = await a.sessions.createSession({ userId, ipAddress: '10.1.1.2', userAgent: USER_AGENT });
    const { accessToken } = await a.jwt.issueTokenPair({ userId, sessionId: session.sessionId });
    await a.jwt.verifyToken(accessToken);

    const expectClosed = async (label: string) => {
      for (const op of [
        () => a.jwt.verifyToken(accessToken),
        () => a.sessions.validateSession(session.sessionId),
      ]) {
        const start = performance.now();
        await assert.rejects(op(), (err: { code?: string }) => {
          assert.ok(
            err.code === 'ERR_STORE_UNAVAILABLE' || err.code === 'ERR_STORE_TIMEOUT',
            `${label}: ${String(err.code)}`,
          );
          return true;
        });
        const took = performance.now() - start;
        assert.ok(took < DEADLINE_MS + 200, `${label}: failed after ${took.toFixed(0)} ms`);
      }
      // Fail-open is a per-call choice: signature checked, revocation not.
      const open = await a.jwt.verifyToken(accessToken, { failOpen: true });
      assert.equal(open.revocationChecked, false);
      const unverified = await a.sessions.validateSession(session.sessionId, { failOpen: true });
      assert.deepEqual(unverified, { sessionId: session.sessionId, unverified: true });
    };

    // Hung: the process is stopped (SIGSTOP); commands are sent but never answered. The warm
    // verification may still be answered from the client-side cache, but only while the tracked
    // connection's lease holds (its last answered PING was sent < LEASE_MS ago): after that it
    // fails closed like everything else.
    const cacheLapses = async (label: string) => {
      const stoppedAt = performance.now();
      await waitUntil(
        () =>
          a.jwt.verifyToken(accessToken).then(
            () => false,
            () => true,
          ),
        LEASE_MS + DEADLINE_MS + 1000,
      );
      const cachedFor = performance.now() - stoppedAt;
      assert.ok(
        cachedFor < LEASE_MS + DEADLINE_MS + 300,
        `${label}: served from cache for ${cachedFor.toFixed(0)} ms`,
      );
      console.log(`# ${label}: warm verification answered from the cache for ${cachedFor.toFixed(0)} ms`);
    };
    server.process.kill('SIGSTOP');
    try {
      await cacheLapses('hung');
      await expectClosed('hung');
    } finally {
      server.process.kill('SIGCONT');
    }
    await waitUntil(
      () =>
        a.jwt.verifyToken(accessToken).then(
          () => true,
          () => false,
        ),
      5000,
    );

    // Down: the process is killed and comes back on the same port (empty: no persistence here).
    server.process.kill('SIGKILL');
    await cacheLapses('down');
    await expectClosed('down');
    await server.restart();
    const backAt = performance.now();
    // Recovery without recreating anything: a new login and verification work again.
    await waitUntil(
      () =>
        a.sessions.createSession({ userId, ipAddress: '10.1.1.3', userAgent: USER_AGENT }).then(
          () => true,
          () => false,
        ),
      5000,
    );
    console.log(`# recovered ${(performance.now() - backAt).toFixed(0)} ms after Redis answered PING again`);
    const { tokens: pair } = await login(b, { userId, ipAddress: '10.1.1.4', userAgent: USER_AGENT });
    await a.jwt.verifyToken(pair.accessToken);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}
