/** /v1/me/*: the user's own sessions, devices and events, with the user's access token. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { createHarness, errorCode, uniqueUser } from './harness.js';

describe('/v1/me', async () => {
  const h = await createHarness();

  test('every /v1/me route requires a valid access token', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/v1/me/sessions'],
      ['DELETE', '/v1/me/sessions/AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB'],
      ['POST', '/v1/me/logout'],
      ['POST', '/v1/me/logout-others'],
      ['GET', '/v1/me/devices'],
      ['POST', '/v1/me/devices'],
      ['DELETE', '/v1/me/devices/some-device'],
      ['GET', '/v1/me/security-events'],
    ];
    const login = await h.login(uniqueUser());
    const tampered = `${login.accessToken.slice(0, -3)}abc`;
    const badHeaders = [
      {},
      { authorization: 'Bearer garbage' },
      { authorization: `Bearer ${tampered}` },
      { authorization: `Basic ${login.accessToken}` },
      h.service, // a service key is not a user token
    ];
    for (const [method, url] of routes) {
      for (const headers of badHeaders) {
        const res = await h.inject({ method: method as 'GET', url, headers });
        assert.equal(
          res.statusCode,
          401,
          `${method} ${url} ${JSON.stringify(headers).slice(0, 30)} → ${res.body}`,
        );
        const code = errorCode(res);
        assert.match(code, /^ERR_(UNAUTHORIZED|JWT_[A-Z_]+)$/);
      }
    }
  });

  test('GET /v1/me/sessions lists my live sessions and marks the current one', async () => {
    const userId = uniqueUser();
    const a = await h.login(userId);
    const b = await h.login(userId);
    await h.login(uniqueUser()); // someone else
    const res = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: b.user });
    assert.equal(res.statusCode, 200);
    const sessions = res.json().sessions as Array<{
      sessionId: string;
      current: boolean;
      lastEndpoint: string | null;
    }>;
    assert.deepEqual(sessions.map((s) => s.sessionId).sort(), [a.sessionId, b.sessionId].sort());
    assert.equal(sessions.find((s) => s.sessionId === b.sessionId)?.current, true);
    assert.equal(sessions.find((s) => s.sessionId === a.sessionId)?.current, false);
    // Right after login nothing is written (one activity write per interval, whatever the
    // endpoint); test/http/session-activity.test.ts follows the endpoint into the next write.
    assert.equal(sessions.find((s) => s.sessionId === b.sessionId)?.lastEndpoint, null);
  });

  test("DELETE /v1/me/sessions/:id ends my other session; another user's id → 404, not 403", async () => {
    const userId = uniqueUser();
    const a = await h.login(userId);
    const b = await h.login(userId);
    const stranger = await h.login(uniqueUser());

    const theirs = await h.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${stranger.sessionId}`,
      headers: a.user,
    });
    assert.equal(theirs.statusCode, 404);
    assert.equal(errorCode(theirs), 'ERR_SESSION_NOT_FOUND');
    const strangerStill = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: stranger.user });
    assert.equal(strangerStill.statusCode, 200, 'the stranger is untouched');

    const mine = await h.inject({ method: 'DELETE', url: `/v1/me/sessions/${b.sessionId}`, headers: a.user });
    assert.equal(mine.statusCode, 204);
    assert.equal(mine.body, '');
    const dead = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: b.user });
    assert.equal(dead.statusCode, 401, 'the ended session’s token no longer works');

    const again = await h.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${b.sessionId}`,
      headers: a.user,
    });
    assert.equal(again.statusCode, 404);
    const unknown = await h.inject({
      method: 'DELETE',
      url: '/v1/me/sessions/AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB',
      headers: a.user,
    });
    assert.equal(unknown.statusCode, 404);
  });

  test('malformed session and device ids → 400 ERR_INVALID_ID', async () => {
    const a = await h.login(uniqueUser());
    for (const url of [
      '/v1/me/sessions/short',
      '/v1/me/sessions/has%20space.AAAAAAAAAAAAAAAAAAAAAA',
      `/v1/me/sessions/${'A'.repeat(300)}`,
      '/v1/me/sessions/AAAAAAAAAAAAAAAA%3ABBBBBBBBBBBBBBBBBBBBBB',
      '/v1/me/devices/a%7Bb%7D',
      '/v1/me/devices/a%3Ab',
    ]) {
      const res = await h.inject({ method: 'DELETE', url, headers: a.user });
      assert.equal(res.statusCode, 400, `${url} → ${res.body}`);
      assert.equal(errorCode(res), 'ERR_INVALID_ID');
    }
  });

  test('POST /v1/me/logout ends the session and revokes the token', async () => {
    const a = await h.login(uniqueUser());
    const res = await h.inject({ method: 'POST', url: '/v1/me/logout', headers: a.user });
    assert.equal(res.statusCode, 204);
    const after = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: a.user });
    assert.equal(after.statusCode, 401);
    assert.equal(errorCode(after), 'ERR_TOKEN_REVOKED');
    const intro = await h.introspect(a.accessToken);
    assert.deepEqual(intro.json(), { active: false });
    const refresh = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: a.refreshToken },
    });
    assert.equal(refresh.statusCode, 401);
  });

  test('POST /v1/me/logout-others keeps only the current session', async () => {
    const userId = uniqueUser();
    const a = await h.login(userId);
    const b = await h.login(userId);
    const c = await h.login(userId);
    const res = await h.inject({ method: 'POST', url: '/v1/me/logout-others', headers: c.user });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ended: 2 });
    for (const other of [a, b]) {
      const r = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: other.user });
      assert.equal(r.statusCode, 401);
    }
    const mine = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: c.user });
    assert.deepEqual(
      mine.json().sessions.map((s: { sessionId: string }) => s.sessionId),
      [c.sessionId],
    );
  });

  test('trusted devices: POST, GET, DELETE; bad input; unknown → 404', async () => {
    const a = await h.login(uniqueUser(), { deviceFingerprint: 'fp-'.padEnd(64, 'x'), mfaVerified: true });
    const created = await h.inject({
      method: 'POST',
      url: '/v1/me/devices',
      headers: a.user,
      payload: {
        deviceFingerprint: 'fp-'.padEnd(64, 'x'),
        deviceName: 'iPhone 13',
        deviceType: 'mobile',
        durationDays: 30,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const device = created.json();
    assert.equal(device.deviceName, 'iPhone 13');
    assert.equal('fingerprintHash' in device, false);
    assert.ok(device.expiresAt > device.trustedAt);

    const list = await h.inject({ method: 'GET', url: '/v1/me/devices', headers: a.user });
    assert.deepEqual(
      list.json().devices.map((d: { deviceId: string }) => d.deviceId),
      [device.deviceId],
    );

    for (const payload of [
      {},
      { deviceFingerprint: 'x', deviceName: 'n' },
      { deviceFingerprint: 'x', deviceName: 'n', deviceType: 't', durationDays: 0 },
      { deviceFingerprint: 'x', deviceName: 'n', deviceType: 't', durationDays: 366 },
      { deviceFingerprint: 'x', deviceName: 'n', deviceType: 't', durationDays: '30' },
      { deviceFingerprint: '', deviceName: 'n', deviceType: 't' },
    ]) {
      const res = await h.inject({ method: 'POST', url: '/v1/me/devices', headers: a.user, payload });
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)} → ${res.body}`);
    }

    const other = await h.login(uniqueUser());
    const notMine = await h.inject({
      method: 'DELETE',
      url: `/v1/me/devices/${device.deviceId}`,
      headers: other.user,
    });
    assert.equal(notMine.statusCode, 404);
    assert.equal(errorCode(notMine), 'ERR_NOT_FOUND');

    const del = await h.inject({
      method: 'DELETE',
      url: `/v1/me/devices/${device.deviceId}`,
      headers: a.user,
    });
    assert.equal(del.statusCode, 204);
    const again = await h.inject({
      method: 'DELETE',
      url: `/v1/me/devices/${device.deviceId}`,
      headers: a.user,
    });
    assert.equal(again.statusCode, 404);
  });

  test('GET /v1/me/security-events: my events only, newest first, with limit/since/until', async () => {
    const userId = uniqueUser();
    const a = await h.login(userId, { deviceFingerprint: 'abc', mfaVerified: true });
    await h.login(userId);
    const trusted = await h.inject({
      method: 'POST',
      url: '/v1/me/devices',
      headers: a.user,
      payload: { deviceFingerprint: 'abc', deviceName: 'Laptop', deviceType: 'desktop' },
    });
    assert.equal(trusted.statusCode, 201, trusted.body);
    const res = await h.inject({ method: 'GET', url: '/v1/me/security-events', headers: a.user });
    assert.equal(res.statusCode, 200);
    const events = res.json().events as Array<{ type: string; timestamp: number }>;
    assert.ok(events.length >= 3, JSON.stringify(events));
    assert.ok(events.some((e) => e.type === 'session_created'));
    assert.ok(events.some((e) => e.type === 'device_trusted'));
    for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.timestamp >= events[i]!.timestamp);

    const limited = await h.inject({ method: 'GET', url: '/v1/me/security-events?limit=1', headers: a.user });
    assert.equal(limited.json().events.length, 1);
    const future = await h.inject({
      method: 'GET',
      url: `/v1/me/security-events?since=${Date.now() + 60_000}`,
      headers: a.user,
    });
    assert.deepEqual(future.json().events, []);

    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'since=-1', 'until=yesterday', 'other=1']) {
      const bad = await h.inject({ method: 'GET', url: `/v1/me/security-events?${q}`, headers: a.user });
      assert.equal(bad.statusCode, 400, `${q} → ${bad.body}`);
      assert.equal(errorCode(bad), 'ERR_VALIDATION');
    }
  });

  test('the idle timeout slides with /v1/me activity, recording the endpoint', async () => {
    const clock = new ManualClock(Date.now());
    const timed = await createHarness({}, { clock });
    const a = await timed.login(uniqueUser());
    const before = (a.body.session as { expiresAt: number }).expiresAt;
    clock.advance(20_000); // past the activity write interval (15 s)
    const res = await timed.inject({ method: 'GET', url: '/v1/me/sessions', headers: a.user });
    const now = (
      res.json().sessions as Array<{ expiresAt: number; current: boolean; lastEndpoint: string | null }>
    ).find((s) => s.current)!;
    assert.equal(now.expiresAt, before + 20_000);
    assert.equal(now.lastEndpoint, '/v1/me/sessions');
  });
});
