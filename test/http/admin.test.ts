/** /v1/admin/*: operator routes with a service key. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHarness, errorCode, uniqueUser } from './harness.js';

describe('/v1/admin', async () => {
  const h = await createHarness();

  test('every admin route requires a service key; a user token is not one', async () => {
    const login = await h.login(uniqueUser());
    const routes: Array<[string, string]> = [
      ['GET', '/v1/admin/users/u1/sessions'],
      ['DELETE', '/v1/admin/users/u1/sessions'],
      ['DELETE', `/v1/admin/sessions/${login.sessionId}`],
      ['GET', '/v1/admin/users/u1/security-events'],
      ['GET', '/v1/admin/stats'],
    ];
    for (const [method, url] of routes) {
      for (const headers of [
        {},
        login.user,
        { authorization: 'Bearer wrong-000000000000000000000000000000' },
      ]) {
        const res = await h.inject({ method: method as 'GET', url, headers });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
        assert.equal(errorCode(res), 'ERR_UNAUTHORIZED');
      }
    }
    const still = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
    assert.equal(still.statusCode, 200, 'nothing was done without auth');
  });

  test("GET /v1/admin/users/:userId/sessions lists a user's sessions (no fingerprints)", async () => {
    const userId = uniqueUser();
    const a = await h.login(userId, { deviceFingerprint: 'secret-fingerprint-123' });
    const res = await h.inject({
      method: 'GET',
      url: `/v1/admin/users/${userId}/sessions`,
      headers: h.service,
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      res.json().sessions.map((s: { sessionId: string }) => s.sessionId),
      [a.sessionId],
    );
    assert.ok(!res.body.includes('secret-fingerprint-123'));
    const none = await h.inject({
      method: 'GET',
      url: '/v1/admin/users/nobody-here/sessions',
      headers: h.service,
    });
    assert.deepEqual(none.json(), { sessions: [] });
  });

  test('DELETE /v1/admin/users/:userId/sessions revokes everything of the user', async () => {
    const userId = uniqueUser();
    const a = await h.login(userId);
    const b = await h.login(userId);
    const bystander = await h.login(uniqueUser());
    const res = await h.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${userId}/sessions`,
      headers: h.service,
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ended: 2 });
    for (const s of [a, b]) {
      const intro = await h.introspect(s.accessToken);
      assert.deepEqual(intro.json(), { active: false });
      const refresh = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: s.refreshToken },
      });
      assert.equal(refresh.statusCode, 401);
    }
    const ok = await h.introspect(bystander.accessToken);
    assert.equal(ok.json().active, true);
    // A new login after the revocation works.
    const fresh = await h.login(userId);
    const intro = await h.introspect(fresh.accessToken);
    assert.equal(intro.json().active, true);
  });

  test('DELETE /v1/admin/sessions/:sessionId ends one session; unknown → 404; malformed → 400', async () => {
    const userId = uniqueUser();
    const a = await h.login(userId);
    const res = await h.inject({
      method: 'DELETE',
      url: `/v1/admin/sessions/${a.sessionId}`,
      headers: h.service,
    });
    assert.equal(res.statusCode, 204);
    const intro = await h.introspect(a.accessToken);
    assert.deepEqual(intro.json(), { active: false });
    const again = await h.inject({
      method: 'DELETE',
      url: `/v1/admin/sessions/${a.sessionId}`,
      headers: h.service,
    });
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again), 'ERR_SESSION_NOT_FOUND');
    const bad = await h.inject({ method: 'DELETE', url: '/v1/admin/sessions/nope', headers: h.service });
    assert.equal(bad.statusCode, 400);
    assert.equal(errorCode(bad), 'ERR_INVALID_ID');
  });

  test('GET /v1/admin/users/:userId/security-events', async () => {
    const userId = uniqueUser();
    const a = await h.login(userId);
    await h.inject({ method: 'POST', url: '/v1/me/logout', headers: a.user });
    const res = await h.inject({
      method: 'GET',
      url: `/v1/admin/users/${userId}/security-events?limit=10`,
      headers: h.service,
    });
    assert.equal(res.statusCode, 200);
    const types = res.json().events.map((e: { type: string }) => e.type);
    assert.ok(types.includes('session_created'), types.join(','));
    assert.ok(types.includes('session_terminated'), types.join(','));
    const bad = await h.inject({
      method: 'GET',
      url: `/v1/admin/users/${userId}/security-events?limit=-5`,
      headers: h.service,
    });
    assert.equal(bad.statusCode, 400);
  });

  test('malformed user ids (control characters, over 256 bytes) → 400 ERR_INVALID_ID', async () => {
    for (const id of ['a%00b', 'x%0Ay', 'a%7F', 'x'.repeat(300), '%C3%A9'.repeat(129)]) {
      const res = await h.inject({
        method: 'GET',
        url: `/v1/admin/users/${id}/sessions`,
        headers: h.service,
      });
      assert.equal(res.statusCode, 400, `${id} → ${res.body}`);
      assert.equal(errorCode(res), 'ERR_INVALID_ID');
    }
  });

  test('GET /v1/admin/stats counts live records', async () => {
    await h.login(uniqueUser());
    const res = await h.inject({ method: 'GET', url: '/v1/admin/stats', headers: h.service });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.backend, 'memory');
    assert.equal(body.redis, null);
    assert.ok(body.store.sessions >= 1);
    assert.ok(body.store.families >= 1);
  });
});
