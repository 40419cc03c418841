/**
 * A session lives while it is used (issue 14 §1), driven over HTTP as its clients do, on an
 * injected clock: an app that refreshes, a gateway that introspects, a user who goes idle. On the
 * memory backend with one instance, and on Redis with two instances sharing it (the client uses
 * one, the gateway the other, alternately). The idle timeout is 1 minute, so the activity write
 * interval is 6 s (a tenth of it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { Session } from '../../src/core/types.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, uniqueUser } from './harness.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Short idle timeout; per-address limits off (every inject comes from one address). */
const ENV = {
  SESSION_IDLE_TIMEOUT_MINUTES: '1',
  RATE_LIMIT_REFRESH_PER_MINUTE: '0',
  RATE_LIMIT_INTROSPECT_PER_MINUTE: '0',
};

interface Setup {
  clock: ManualClock;
  /** The instances (one on memory, two sharing Redis); `at(i)` alternates between them. */
  at(i: number): Harness;
  instances: Harness[];
}

async function refresh(h: Harness, refreshToken: string) {
  return h.inject({ method: 'POST', url: '/v1/token/refresh', payload: { refreshToken } });
}

const backends: Array<{ name: string; make(): Promise<Setup> }> = [
  {
    name: 'memory, one instance',
    async make() {
      const clock = new ManualClock(Date.now());
      const a = await createHarness(ENV, { clock });
      return { clock, at: () => a, instances: [a] };
    },
  },
  {
    name: 'Redis, two instances',
    async make() {
      const clock = new ManualClock(Date.now());
      const env = { ...ENV, REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() };
      const a = await createHarness(env, { clock });
      const b = await createHarness(env, { clock });
      return { clock, at: (i) => (i % 2 === 0 ? a : b), instances: [a, b] };
    },
  },
];

for (const backend of backends) {
  describe(`a session lives while it is used (${backend.name})`, async () => {
    const setup = await backend.make();
    const { clock, at } = setup;

    test('an app refreshing every 20 s with a 1-minute idle timeout stays logged in for 10 minutes', async () => {
      const login = await at(0).login(uniqueUser('app'));
      let tokens = { accessToken: login.accessToken, refreshToken: login.refreshToken };
      for (let i = 1; i <= 30; i++) {
        clock.advance(20 * SECOND);
        const res = await refresh(at(i), tokens.refreshToken);
        assert.equal(res.statusCode, 200, `refresh ${i} at ${i * 20} s: ${res.body}`);
        tokens = res.json();
        // The other instance sees the new access token active.
        const intro = await at(i + 1).introspect(tokens.accessToken);
        assert.equal(intro.json().active, true, `introspection after refresh ${i}`);
      }
      const me = await at(1).inject({
        method: 'GET',
        url: '/v1/me/sessions',
        headers: { authorization: `Bearer ${tokens.accessToken}` },
      });
      assert.equal(me.statusCode, 200, me.body);
    });

    test('a gateway introspecting every 5 s keeps the session alive for 10 minutes', async () => {
      const login = await at(0).login(uniqueUser('gw'));
      for (let i = 1; i <= 120; i++) {
        clock.advance(5 * SECOND);
        const intro = await at(i).introspect(login.accessToken);
        assert.equal(intro.json().active, true, `introspection ${i} at ${i * 5} s`);
      }
      // The session is still there for the app's next refresh, 10 minutes after login.
      const res = await refresh(at(1), login.refreshToken);
      assert.equal(res.statusCode, 200, res.body);
    });

    test('an idle session still ends: unused, or once its uses stop', async () => {
      const idle = await at(0).login(uniqueUser('idle'));
      clock.advance(MINUTE + SECOND);
      assert.deepEqual((await at(1).introspect(idle.accessToken)).json(), { active: false });
      const late = await refresh(at(0), idle.refreshToken);
      assert.equal(late.statusCode, 401);
      assert.equal(errorCode(late), 'ERR_REFRESH_INVALID');

      // Used for two minutes, then left alone: ended at most the idle timeout after the last use.
      const used = await at(0).login(uniqueUser('used'));
      for (let i = 1; i <= 24; i++) {
        clock.advance(5 * SECOND);
        assert.equal((await at(i).introspect(used.accessToken)).json().active, true);
      }
      clock.advance(MINUTE + SECOND);
      assert.deepEqual((await at(1).introspect(used.accessToken)).json(), { active: false });
      const after = await refresh(at(0), used.refreshToken);
      assert.equal(errorCode(after), 'ERR_REFRESH_INVALID');
      const me = await at(1).inject({ method: 'GET', url: '/v1/me/sessions', headers: used.user });
      assert.equal(me.statusCode, 401);
    });

    test('the absolute timeout is never extended by use', async () => {
      // A harness of its own: a 2-minute absolute lifetime.
      const env = { ...ENV, SESSION_ABSOLUTE_TIMEOUT_MINUTES: '2' };
      const h =
        setup.instances.length === 1
          ? await createHarness(env, { clock })
          : await createHarness(
              {
                ...env,
                REDIS_URL: setup.instances[0]!.optix.config.redis!.url,
                REDIS_KEY_PREFIX: uniquePrefix(),
              },
              { clock },
            );
      const login = await h.login(uniqueUser('abs'));
      for (let i = 1; i <= 23; i++) {
        clock.advance(5 * SECOND);
        assert.equal((await h.introspect(login.accessToken)).json().active, true, `at ${i * 5} s`);
      }
      clock.advance(5 * SECOND); // 120 s: the absolute end
      assert.deepEqual((await h.introspect(login.accessToken)).json(), { active: false });
      assert.equal(errorCode(await refresh(h, login.refreshToken)), 'ERR_REFRESH_INVALID');
    });

    test('a change of endpoint alone writes nothing within the interval; the next write records it', async () => {
      const login = await at(0).login(uniqueUser('ep'));
      const writes: string[] = [];
      const restore: Array<() => void> = [];
      for (const h of setup.instances) {
        const store = h.optix.stores.sessionStore;
        const original = store.updateSession.bind(store);
        store.updateSession = (session: Session, options?: { extendTtl?: boolean }) => {
          writes.push(session.lastEndpoint ?? 'null');
          return original(session, options);
        };
        restore.push(() => {
          delete (store as { updateSession?: unknown }).updateSession;
        });
      }
      try {
        let refreshToken = login.refreshToken;
        let user = login.user;
        // Within the first 6 s after login (its write): every endpoint, on both instances.
        for (let i = 0; i < 5; i++) {
          clock.advance(SECOND);
          const h = at(i);
          assert.equal(
            (await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: user })).statusCode,
            200,
          );
          assert.equal(
            (await h.inject({ method: 'GET', url: '/v1/me/devices', headers: user })).statusCode,
            200,
          );
          assert.equal(
            (await h.inject({ method: 'GET', url: '/v1/me/security-events', headers: user })).statusCode,
            200,
          );
          assert.equal((await h.introspect(login.accessToken)).json().active, true);
          const res = await refresh(h, refreshToken);
          assert.equal(res.statusCode, 200, res.body);
          refreshToken = res.json().refreshToken;
          user = { authorization: `Bearer ${res.json().accessToken}` };
        }
        assert.deepEqual(writes, [], 'no activity write within 6 s of the last one');
        clock.advance(SECOND + 1); // 6 s after the login's write
        assert.equal((await at(1).introspect(login.accessToken)).json().active, true);
        assert.deepEqual(writes, ['/v1/introspect'], 'one write, with the endpoint of the use that made it');
        assert.equal(
          (await at(0).inject({ method: 'GET', url: '/v1/me/devices', headers: user })).statusCode,
          200,
        );
        assert.equal(writes.length, 1, 'and none right after it');
        const stored = await at(0).optix.sessions.getSession(login.sessionId);
        assert.equal(stored?.lastEndpoint, '/v1/introspect');
        assert.equal(stored?.expiresAt, clock.now() + MINUTE);
      } finally {
        for (const r of restore) r();
      }
    });
  });
}
