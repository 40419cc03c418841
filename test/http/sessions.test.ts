/** POST /v1/sessions: the happy path and every kind of bad input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashId } from '../../src/http/logger.js';
import { capturedLogs, createHarness, errorCode, SECOND_SERVICE_KEY, uniqueUser } from './harness.js';

describe('POST /v1/sessions', async () => {
  const h = await createHarness();
  const valid = () => ({ userId: uniqueUser(), ipAddress: '203.0.113.10', userAgent: 'Mozilla/5.0 test' });

  test('creates a session and a token pair (201)', async () => {
    const body = {
      ...valid(),
      email: 'alice@example.com',
      roles: ['trader'],
      permissions: ['orders:read', 'orders:write'],
      deviceFingerprint: 'f'.repeat(64),
      deviceId: 'device-1',
      mfaVerified: true,
    };
    const res = await h.inject({ method: 'POST', url: '/v1/sessions', headers: h.service, payload: body });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const json = res.json();
    assert.equal(json.tokenType, 'Bearer');
    assert.equal(json.expiresIn, 900);
    assert.equal(typeof json.accessToken, 'string');
    assert.equal(typeof json.refreshToken, 'string');
    assert.equal(json.session.userId, body.userId);
    assert.equal(json.session.deviceId, 'device-1');
    assert.equal(json.session.mfaVerified, true);
    assert.equal(json.session.ipAddress, '203.0.113.10');
    assert.match(json.session.sessionId, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    assert.equal('deviceFingerprint' in json.session, false, 'the fingerprint is not echoed');
    // The token works and carries the claims.
    const intro = await h.introspect(json.accessToken);
    assert.equal(intro.json().active, true);
    assert.equal(intro.json().scope, 'orders:read orders:write');
    assert.equal(intro.json().sid, json.session.sessionId);
  });

  test('every configured service key works', async () => {
    const res = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${SECOND_SERVICE_KEY}` },
      payload: valid(),
    });
    assert.equal(res.statusCode, 201);
  });

  test('missing, malformed or wrong service key → 401 ERR_UNAUTHORIZED', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer wrong-key-0123456789abcdef0123456789' },
      { authorization: `Bearer ${'x'.repeat(5000)}` },
    ]) {
      const res = await h.inject({ method: 'POST', url: '/v1/sessions', headers, payload: valid() });
      assert.equal(res.statusCode, 401, JSON.stringify(headers).slice(0, 40));
      assert.equal(errorCode(res), 'ERR_UNAUTHORIZED');
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    }
  });

  test("a user's access token is not a service key", async () => {
    const login = await h.login(uniqueUser());
    const res = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: login.user,
      payload: valid(),
    });
    assert.equal(res.statusCode, 401);
  });

  test('missing fields, wrong types and unknown fields → 400 ERR_VALIDATION', async () => {
    const cases: Array<Record<string, unknown>> = [
      {},
      { userAgent: 'x', ipAddress: '203.0.113.1' },
      { ...valid(), userId: 42 },
      { ...valid(), ipAddress: 7 },
      { ...valid(), ipAddress: 'not an ip' },
      { ...valid(), mfaVerified: 'yes' },
      { ...valid(), roles: 'admin' },
      { ...valid(), roles: ['has space'] },
      { ...valid(), email: 'no-at-sign' },
      { ...valid(), isAdmin: true },
      { ...valid(), userAgent: 'x'.repeat(1025) },
    ];
    for (const payload of cases) {
      const res = await h.inject({ method: 'POST', url: '/v1/sessions', headers: h.service, payload });
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)} → ${res.body}`);
      assert.equal(errorCode(res), 'ERR_VALIDATION');
    }
  });

  test('a malformed user or device id → 400 ERR_INVALID_ID', async () => {
    for (const payload of [
      { ...valid(), userId: 'has\u0000nul' },
      { ...valid(), userId: 'line\nbreak' },
      { ...valid(), userId: 'x'.repeat(300) },
      { ...valid(), userId: 'é'.repeat(129) }, // 258 bytes
      { ...valid(), userId: '' },
      { ...valid(), deviceId: 'a b' },
    ]) {
      const res = await h.inject({ method: 'POST', url: '/v1/sessions', headers: h.service, payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(errorCode(res), 'ERR_INVALID_ID');
    }
  });

  test('malformed JSON, empty JSON body → 400 ERR_VALIDATION without an echo of the input', async () => {
    for (const payload of ['{"userId": "a",', '{bad', '[1,2', '']) {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: { ...h.service, 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(errorCode(res), 'ERR_VALIDATION');
    }
  });

  test('a JSON body that is not an object → 400', async () => {
    for (const payload of ['"text"', '42', 'null', '[]']) {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: { ...h.service, 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 400, `${payload} → ${res.body}`);
    }
  });

  test('wrong content type → 415 ERR_UNSUPPORTED_MEDIA_TYPE (form bodies only where the RFCs allow)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: { ...h.service, 'content-type': type },
        payload: 'userId=a',
      });
      assert.equal(res.statusCode, 415, `${type} → ${res.body}`);
      assert.equal(errorCode(res), 'ERR_UNSUPPORTED_MEDIA_TYPE');
    }
  });

  test('oversized body → 413 ERR_PAYLOAD_TOO_LARGE', async () => {
    const res = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: { ...h.service, 'content-type': 'application/json' },
      payload: JSON.stringify({ ...valid(), userAgent: 'x'.repeat(20_000) }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(errorCode(res), 'ERR_PAYLOAD_TOO_LARGE');
  });

  test('prototype pollution attempts are rejected, not merged', async () => {
    const res = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: { ...h.service, 'content-type': 'application/json' },
      payload: `{"userId":"u1","ipAddress":"203.0.113.1","userAgent":"x","__proto__":{"admin":true}}`,
    });
    assert.equal(res.statusCode, 400);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  test('the session cap evicts the oldest by default', async () => {
    const userId = uniqueUser('cap');
    const first = await h.login(userId);
    // "Oldest" is by createdAt (ms); logins within one ms are ordered by id. Let the clock move
    // on so that the first login is strictly the oldest.
    const createdAt = Date.now();
    while (Date.now() <= createdAt) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await h.login(userId);
    const list = await h.inject({
      method: 'GET',
      url: `/v1/admin/users/${userId}/sessions`,
      headers: h.service,
    });
    const ids = (list.json().sessions as Array<{ sessionId: string }>).map((s) => s.sessionId);
    assert.equal(ids.length, 5);
    assert.ok(!ids.includes(first.sessionId));
    const intro = await h.introspect(first.accessToken);
    assert.deepEqual(intro.json(), { active: false });
  });
});

describe('POST /v1/sessions with SESSION_LIMIT_POLICY=deny', async () => {
  const h = await createHarness({ MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_POLICY: 'deny' });
  test('a login beyond the cap → 409 ERR_SESSION_LIMIT', async () => {
    const userId = uniqueUser('deny');
    await h.login(userId);
    await h.login(userId);
    const res = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: h.service,
      payload: { userId, ipAddress: '203.0.113.1', userAgent: 'x' },
    });
    assert.equal(res.statusCode, 409);
    assert.equal(errorCode(res), 'ERR_SESSION_LIMIT');
  });
});

describe('logs correlate sessions by a salted hash, never the id', async () => {
  const h = await createHarness({ LOG_ID_SALT: 'test-salt-A' });

  test('session_created carries sessionHash = SHA-256(salt, id) prefix; another salt gives another hash', async () => {
    const before = capturedLogs.length;
    const login = await h.login(uniqueUser());
    const lines = capturedLogs
      .slice(before)
      .join('')
      .split('\n')
      .filter((l) => l.includes('"msg":"session_created"'));
    assert.equal(lines.length, 1, 'one session_created line');
    const logged = JSON.parse(lines[0]!) as { sessionHash?: string };
    assert.equal(logged.sessionHash, hashId('test-salt-A', login.sessionId));
    assert.match(logged.sessionHash ?? '', /^[A-Za-z0-9_-]{16}$/);
    assert.notEqual(hashId('test-salt-B', login.sessionId), logged.sessionHash);
    assert.ok(!lines[0]!.includes(login.sessionId), 'the id itself is not logged');
  });
});
