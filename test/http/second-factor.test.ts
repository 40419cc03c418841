/**
 * Issue 14 §4, driven over HTTP as the app and the login service would, on both backends:
 * - trusting a device needs an MFA-verified session (at login, or a step-up the login service
 *   confirms with `POST /v1/sessions/:sessionId/mfa`), applies to the session's own device only,
 *   and is recorded with its context;
 * - the login service can check a device (`POST /v1/devices/check`) and rotate a session id on a
 *   privilege change (`POST /v1/sessions/:sessionId/rotate`);
 * - `/metrics` and the details of `/readyz` can be closed with `OPS_API_KEYS`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, remember, uniqueUser } from './harness.js';

const FP = 'fp-laptop-0123456789abcdef0123456789abcdef';
const OTHER_FP = 'fp-attacker-device-0123456789abcdef012345';
const OPS_KEY = 'test-ops-key-0123456789abcdef-0123456789';
remember(FP, OTHER_FP, OPS_KEY);

async function trust(h: Harness, user: { authorization: string }, payload: Record<string, unknown> = {}) {
  return h.inject({
    method: 'POST',
    url: '/v1/me/devices',
    headers: { ...user, 'user-agent': 'TraderApp/7.1' },
    remoteAddress: '198.51.100.23',
    payload: { deviceName: 'Laptop', deviceType: 'desktop', ...payload },
  });
}

async function check(h: Harness, userId: string, deviceFingerprint: string): Promise<boolean> {
  const res = await h.inject({
    method: 'POST',
    url: '/v1/devices/check',
    headers: h.service,
    payload: { userId, deviceFingerprint },
  });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { trusted: boolean }).trusted;
}

async function active(h: Harness, token: string): Promise<boolean> {
  return ((await h.introspect(token)).json() as { active: boolean }).active;
}

function suite(name: string, make: (env?: Record<string, string>) => Promise<[Harness, Harness]>): void {
  describe(`second factor and service routes (${name})`, () => {
    test('a session without MFA cannot trust a device; a step-up confirmed by the login service can', async () => {
      const [a, b] = await make();
      const userId = uniqueUser('mfa');
      const login = await a.login(userId, { deviceFingerprint: FP });
      const refused = await trust(a, login.user);
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(errorCode(refused), 'ERR_MFA_REQUIRED');
      assert.equal(await check(b, userId, FP), false);

      // Only the login service may confirm a step-up.
      const byUser = await a.inject({
        method: 'POST',
        url: `/v1/sessions/${login.sessionId}/mfa`,
        headers: login.user,
      });
      assert.equal(byUser.statusCode, 401);
      const stepUp = await b.inject({
        method: 'POST',
        url: `/v1/sessions/${login.sessionId}/mfa`,
        headers: a.service,
      });
      assert.equal(stepUp.statusCode, 200, stepUp.body);
      assert.equal((stepUp.json() as { session: { mfaVerified: boolean } }).session.mfaVerified, true);

      const ok = await trust(a, login.user, { durationDays: 30 });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(await check(b, userId, FP), true, 'the session device is trusted, seen from B');
      assert.equal(await check(a, uniqueUser('mfa'), FP), false, 'for this user only');

      // Recorded with its context: session, ip, user agent.
      const events = await b.inject({
        method: 'GET',
        url: `/v1/admin/users/${userId}/security-events`,
        headers: b.service,
      });
      const trusted = (events.json() as { events: Array<Record<string, unknown>> }).events.find(
        (e) => e.type === 'device_trusted',
      );
      assert.ok(trusted, events.body);
      assert.equal(trusted.ipAddress, '198.51.100.23');
      assert.equal(trusted.userAgent, 'TraderApp/7.1');
      assert.equal(typeof trusted.sessionId, 'string');
      assert.ok(
        (events.json() as { events: Array<{ type: string }> }).events.some((e) => e.type === 'mfa_verified'),
      );
    });

    test("trust applies to the session's own device, never to a fingerprint from the body", async () => {
      const [a, b] = await make();
      const userId = uniqueUser('own');
      const login = await a.login(userId, { deviceFingerprint: FP, mfaVerified: true });
      const other = await trust(a, login.user, { deviceFingerprint: OTHER_FP });
      assert.equal(other.statusCode, 400, other.body);
      assert.equal(await check(b, userId, OTHER_FP), false, 'no other device became trusted');
      const same = await trust(b, login.user, { deviceFingerprint: FP });
      assert.equal(same.statusCode, 201, same.body);
      assert.equal(await check(a, userId, FP), true);

      // A session created without a device has nothing to trust.
      const bare = await a.login(userId, { mfaVerified: true });
      const none = await trust(a, bare.user, { deviceFingerprint: OTHER_FP });
      assert.equal(none.statusCode, 400, none.body);
      assert.equal(await check(a, userId, OTHER_FP), false);
    });

    test('rotate on a privilege change: a new id and pair; the old id, token and refresh token stop', async () => {
      const [a, b] = await make();
      const userId = uniqueUser('rotate');
      const login = await a.login(userId, { roles: ['viewer'] });
      const res = await b.inject({
        method: 'POST',
        url: `/v1/sessions/${login.sessionId}/rotate`,
        headers: b.service,
        payload: { roles: ['trader'] },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as {
        session: { sessionId: string };
        accessToken: string;
        refreshToken: string;
      };
      assert.notEqual(body.session.sessionId, login.sessionId);
      assert.equal(await active(a, login.accessToken), false, 'old access token');
      assert.equal(await active(a, body.accessToken), true, 'new access token');
      const intro = (await b.introspect(body.accessToken)).json() as { roles?: string[]; sid?: string };
      assert.deepEqual(intro.roles, ['trader']);
      assert.equal(intro.sid, body.session.sessionId);
      const oldRefresh = await a.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: login.refreshToken },
      });
      assert.equal(oldRefresh.statusCode, 401);
      const newRefresh = await b.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: body.refreshToken },
      });
      assert.equal(newRefresh.statusCode, 200, newRefresh.body);
      const again = await a.inject({
        method: 'POST',
        url: `/v1/sessions/${login.sessionId}/rotate`,
        headers: a.service,
        payload: {},
      });
      assert.equal(again.statusCode, 404);
      assert.equal(errorCode(again), 'ERR_SESSION_NOT_FOUND');
      const user = await a.inject({
        method: 'POST',
        url: `/v1/sessions/${body.session.sessionId}/rotate`,
        headers: { authorization: `Bearer ${body.accessToken}` },
        payload: {},
      });
      assert.equal(user.statusCode, 401, 'a user token is not a service key');
    });

    test('/metrics and /readyz details: public by default, closed with OPS_API_KEYS', async () => {
      const [open] = await make();
      assert.equal((await open.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);

      const [closed] = await make({ OPS_API_KEYS: OPS_KEY });
      const anon = await closed.inject({ method: 'GET', url: '/metrics' });
      assert.equal(anon.statusCode, 401);
      assert.equal(errorCode(anon), 'ERR_UNAUTHORIZED');
      const svc = await closed.inject({ method: 'GET', url: '/metrics', headers: closed.service });
      assert.equal(svc.statusCode, 401, 'a service key is not an ops key');
      const ops = await closed.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${OPS_KEY}` },
      });
      assert.equal(ops.statusCode, 200);
      assert.match(ops.body, /optix_/);

      const ready = await closed.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, 'a load balancer still sees readiness');
      assert.equal((ready.json() as { status: string }).status, 'ready');
      assert.equal('redis' in (ready.json() as object), false, 'no Redis details without a key');
      const detailed = await closed.inject({
        method: 'GET',
        url: '/readyz',
        headers: { authorization: `Bearer ${OPS_KEY}` },
      });
      assert.equal(detailed.statusCode, 200);
      if (closed.optix.backend === 'redis') {
        assert.equal(typeof (detailed.json() as { redis?: object }).redis, 'object');
        const openReady = await open.inject({ method: 'GET', url: '/readyz' });
        assert.equal(typeof (openReady.json() as { redis?: object }).redis, 'object');
      }
    });
  });
}

suite('memory', async (env = {}) => {
  const h = await createHarness(env);
  return [h, h];
});

describe('on Redis', async () => {
  const url = await getTestRedisUrl();
  suite('redis, two instances', async (env = {}) => {
    const shared = { ...env, REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
    return [await createHarness(shared), await createHarness(shared)];
  });
});
