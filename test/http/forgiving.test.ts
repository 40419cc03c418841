/**
 * HTTP that forgives what clients really send, on both backends: a bodiless POST/DELETE sent with
 * `Content-Type: application/json`, validation errors that name the field in words, IP addresses
 * checked as addresses, user ids of any printable Unicode, times as epoch ms or RFC 3339.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, uniqueUser } from './harness.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

function suite(name: string, make: () => Promise<Harness>): void {
  describe(`forgiving HTTP (${name})`, async () => {
    const h = await make();
    const create = (payload: Record<string, unknown>) =>
      h.inject({ method: 'POST', url: '/v1/sessions', headers: h.service, payload });
    const valid = (userId = uniqueUser()) => ({ userId, ipAddress: '203.0.113.9', userAgent: 'test/1.0' });

    test('a bodiless POST or DELETE with Content-Type: application/json is accepted', async () => {
      const userId = uniqueUser();
      await h.login(userId);
      const other = await h.login(userId);
      const logoutOthers = await h.inject({
        method: 'POST',
        url: '/v1/me/logout-others',
        headers: { ...other.user, ...JSON_HEADERS },
      });
      assert.equal(logoutOthers.statusCode, 200, logoutOthers.body);
      assert.equal(logoutOthers.json().ended, 1);
      const end = await h.inject({
        method: 'DELETE',
        url: `/v1/me/sessions/${other.sessionId}`,
        headers: { ...other.user, ...JSON_HEADERS },
      });
      assert.equal(end.statusCode, 204, end.body);
      const admin = await h.inject({
        method: 'DELETE',
        url: `/v1/admin/users/${encodeURIComponent(uniqueUser())}/sessions`,
        headers: { ...h.service, ...JSON_HEADERS },
        payload: '',
      });
      assert.equal(admin.statusCode, 200, admin.body);
      // Where a body is needed, its absence names the fields.
      const revoke = await h.inject({ method: 'POST', url: '/v1/revoke', headers: JSON_HEADERS });
      assert.equal(revoke.statusCode, 400);
      assert.equal(revoke.json().error.message, 'token is required');
      // Malformed JSON is still refused.
      const bad = await h.inject({
        method: 'POST',
        url: '/v1/revoke',
        headers: JSON_HEADERS,
        payload: '{"token":',
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(errorCode(bad), 'ERR_VALIDATION');
    });

    test('validation errors name the field in words, never schema internals', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...valid(), ipAddress: '999.999.999.999' }, 'ipAddress must be an IPv4 or IPv6 address'],
        [{ ...valid(), ipAddress: ':::' }, 'ipAddress must be an IPv4 or IPv6 address'],
        [{ ...valid(), ipAddress: '1.2.3' }, 'ipAddress must be an IPv4 or IPv6 address'],
        [{ userId: 'u', ipAddress: '203.0.113.9' }, 'userAgent is required'],
        [{ ...valid(), extra: 1 }, 'extra is not an accepted field'],
        [{ ...valid(), userAgent: 5 }, 'userAgent must be a string'],
        [{ ...valid(), mfaVerified: 'yes' }, 'mfaVerified must be true or false'],
        [{ ...valid(), email: 'not an email' }, 'email must be an email address'],
        [{ ...valid(), roles: ['a b'] }, 'roles[0] must be 1-256 characters without spaces'],
        [
          { ...valid(), userId: 'a\u0000b' },
          'userId must be printable text of 1-256 bytes (UTF-8), without control characters',
        ],
      ];
      for (const [payload, message] of cases) {
        const res = await create(payload);
        assert.equal(res.statusCode, 400, res.body);
        const body = res.json();
        assert.equal(body.error.message, message);
        assert.doesNotMatch(body.error.message, /pattern|schema|must match|body\//);
      }
    });

    test('valid IPv4 and IPv6 addresses are accepted', async () => {
      for (const ipAddress of ['203.0.113.9', '::1', '2001:db8::1', '::ffff:192.0.2.1', 'fe80::1']) {
        const res = await create({ ...valid(), ipAddress });
        assert.equal(res.statusCode, 201, `${ipAddress}: ${res.body}`);
        assert.equal(res.json().session.ipAddress, ipAddress);
      }
    });

    test('user ids of any printable Unicode work end to end: login, me, introspect, admin list and revoke-all', async () => {
      for (const base of ['tenant:kim', 'Kim Lee', 'ユーザー 😀', 'a{b}*?[c]']) {
        const userId = `${base}-${uniqueUser()}`;
        const login = await h.login(userId);
        const me = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
        assert.equal(me.statusCode, 200, me.body);
        assert.equal(me.json().sessions[0].userId, userId);
        assert.equal((await h.introspect(login.accessToken)).json().sub, userId);
        const path = `/v1/admin/users/${encodeURIComponent(userId)}/sessions`;
        const list = await h.inject({ method: 'GET', url: path, headers: h.service });
        assert.equal(list.statusCode, 200, list.body);
        assert.equal(list.json().sessions.length, 1);
        const revokeAll = await h.inject({ method: 'DELETE', url: path, headers: h.service });
        assert.equal(revokeAll.statusCode, 200, revokeAll.body);
        assert.deepEqual((await h.introspect(login.accessToken)).json(), { active: false });
      }
      // The limit is stated in bytes: 256 bytes pass, 257 do not.
      assert.equal((await create(valid('é'.repeat(128)))).statusCode, 201);
      const long = await create(valid(`${'é'.repeat(128)}x`));
      assert.equal(long.statusCode, 400);
      assert.equal(errorCode(long), 'ERR_INVALID_ID');
    });

    test('times: epoch ms and RFC 3339 are both taken; anything else is named', async () => {
      const login = await h.login(uniqueUser());
      const at = (q: string) =>
        h.inject({ method: 'GET', url: `/v1/me/security-events?${q}`, headers: login.user });
      const all = await at('since=0');
      assert.equal(all.statusCode, 200, all.body);
      assert.ok(all.json().events.length >= 1);
      const ts = all.json().events[0].timestamp as number;
      const iso = new Date(ts).toISOString();
      for (const q of [
        `since=${ts}&until=${ts}`,
        `since=${encodeURIComponent(iso)}&until=${encodeURIComponent(iso)}`,
        `since=${encodeURIComponent(iso.replace('Z', '+00:00'))}`,
      ]) {
        const res = await at(q);
        assert.equal(res.statusCode, 200, `${q}: ${res.body}`);
        assert.ok(
          res.json().events.some((e: { timestamp: number }) => e.timestamp === ts),
          q,
        );
      }
      const later = await at(`since=${encodeURIComponent(new Date(ts + 1).toISOString())}`);
      assert.ok(!later.json().events.some((e: { timestamp: number }) => e.timestamp === ts));
      for (const bad of ['yesterday', '2026-13-01T00:00:00Z', '2026-12-06', '-5']) {
        const res = await at(`since=${encodeURIComponent(bad)}`);
        assert.equal(res.statusCode, 400, bad);
        assert.equal(
          res.json().error.message,
          'since must be ms since the epoch or an RFC 3339 date-time (2026-12-06T19:00:00Z)',
        );
      }
    });
  });
}

suite('memory', () => createHarness());
suite('redis', async () =>
  createHarness({ REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() }));
