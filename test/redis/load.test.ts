/**
 * Correctness under load on a real Redis, with the time each batch took reported as a test
 * diagnostic (no timing assertions: machines differ; `bench/` is where numbers are compared).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newUserScopedId } from '../../src/core/ids.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { makeSession, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sharedClient } from './stores.js';

const N = 1000;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, Math.round(performance.now() - start)];
}

describe('Redis stores under load', () => {
  it(`${N} concurrent creates, reads and revocation checks`, async (t) => {
    const stores = createRedisStores(await sharedClient(), { keyPrefix: uniquePrefix() });
    const sessions = Array.from({ length: N }, () => makeSession(uniqueUserId()));

    const [, createMs] = await timed(() =>
      Promise.all(sessions.map((s) => stores.sessionStore.createSession(s))),
    );
    const [read, readMs] = await timed(() =>
      Promise.all(sessions.map((s) => stores.sessionStore.getSession(s.sessionId))),
    );
    assert.deepEqual(read, sessions);
    const [checks, checkMs] = await timed(() =>
      Promise.all(
        sessions.map((s) =>
          stores.revocation.check({
            jti: uniqueJti(),
            userId: s.userId,
            issuedAtMs: Date.now(),
            familyId: newUserScopedId(s.userId),
            sessionId: s.sessionId,
          }),
        ),
      ),
    );
    assert.ok(
      checks.every((r) => r === 'family_revoked'),
      'unknown families revoke their tokens',
    );
    const [, blacklistMs] = await timed(() =>
      Promise.all(
        sessions.map(() =>
          stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 60, reason: 'x' }),
        ),
      ),
    );
    t.diagnostic(
      `${N} concurrent: createSession ${createMs} ms, getSession ${readMs} ms, ` +
        `revocation.check ${checkMs} ms, blacklistToken ${blacklistMs} ms`,
    );
  });

  it(`${N} concurrent creates for one user with maxSessions 5 (evict-oldest)`, async (t) => {
    const stores = createRedisStores(await sharedClient(), { keyPrefix: uniquePrefix() });
    const userId = uniqueUserId();
    const now = Date.now();
    const sessions = Array.from({ length: N }, (_, i) => makeSession(userId, { createdAt: now + i }, now));
    const [results, ms] = await timed(() =>
      Promise.all(sessions.map((s) => stores.sessionStore.createSession(s, { maxSessions: 5 }))),
    );
    assert.equal(results.flatMap((r) => r.evicted).length, N - 5);
    assert.equal((await stores.sessionStore.getUserSessions(userId)).length, 5);
    t.diagnostic(`${N} concurrent capped creates for one user: ${ms} ms`);
  });
});
