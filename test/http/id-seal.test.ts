/**
 * Sealed user tags over HTTP, on both backends: ids handed out do not show the user's plain tag
 * (another deployment gives the same user another prefix), ids issued before the upgrade (plain
 * tag) keep working end to end, a tampered prefix is a 4xx, and on Redis two instances sharing
 * the store read each other's sealed ids.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PLAIN_ID_CODEC, userTag } from '../../src/core/ids.js';
import type { Stores } from '../../src/core/ports.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { login } from '../../src/services/login.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, remember, uniqueUser } from './harness.js';

/** A login as the code before the upgrade made it: old-form session and family ids. */
async function loginBeforeUpgrade(h: Harness, userId: string) {
  const stores: Stores = { ...h.optix.stores, ids: PLAIN_ID_CODEC };
  const jwtConfig = h.optix.config.jwt;
  const jwt = createJwtService({
    stores,
    keys: jwtConfig.keys,
    activeKid: jwtConfig.activeKid,
    issuer: jwtConfig.issuer,
    audience: jwtConfig.audience,
    accessTokenTtlSeconds: jwtConfig.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: jwtConfig.refreshTokenTtlSeconds,
    refreshGraceSeconds: jwtConfig.refreshGraceSeconds,
  });
  const sessions = createSessionManager({ stores });
  const { session, tokens: pair } = await login(
    { sessions, jwt },
    {
      userId,
      ipAddress: '203.0.113.9',
      userAgent: 'before-upgrade/1.0',
      deviceFingerprint: null,
      deviceId: null,
      mfaVerified: false,
    },
  );
  remember(session.sessionId, pair.accessToken, pair.refreshToken);
  return { sessionId: session.sessionId, ...pair };
}

function tampered(id: string): string {
  const c = id[3] === 'A' ? 'B' : 'A';
  return `${id.slice(0, 3)}${c}${id.slice(4)}`;
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`sealed id tags over HTTP (${backend})`, async () => {
    const env = async () =>
      backend === 'memory' ? {} : { REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() };
    const h = await createHarness(await env());

    test('ids handed out show no plain tag; another deployment gives the same user another prefix', async () => {
      const other = await createHarness(await env());
      const userId = uniqueUser();
      const login = await h.login(userId);
      const refreshFamily = login.refreshToken.slice(0, login.refreshToken.lastIndexOf('.'));
      for (const id of [login.sessionId, refreshFamily]) {
        assert.match(id, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
        assert.ok(!id.includes(userTag(userId)), id);
      }
      const again = await h.login(userId);
      assert.equal(again.sessionId.split('.')[0], login.sessionId.split('.')[0], 'one user, one prefix');
      const elsewhere = await other.login(userId);
      assert.notEqual(elsewhere.sessionId.split('.')[0], login.sessionId.split('.')[0]);
      // An id of the other deployment means nothing here: a client mistake, not a 500.
      const foreign = await h.inject({
        method: 'DELETE',
        url: `/v1/admin/sessions/${elsewhere.sessionId}`,
        headers: h.service,
      });
      assert.equal(foreign.statusCode, 400, foreign.body);
      assert.equal(errorCode(foreign), 'ERR_INVALID_ID');
    });

    test('a login made before the upgrade (plain-tag ids) is listed, refreshed, verified and revoked after it', async () => {
      const userId = uniqueUser();
      const old = await loginBeforeUpgrade(h, userId);
      assert.ok(old.sessionId.startsWith(`${userTag(userId)}.`), 'the old form');
      assert.ok(old.refreshToken.startsWith(`${userTag(userId)}.`), 'the old form');
      const user = { authorization: `Bearer ${old.accessToken}` };
      const intro = await h.introspect(old.accessToken);
      assert.equal(intro.json().active, true, intro.body);
      const listed = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: user });
      assert.equal(listed.statusCode, 200, listed.body);
      assert.ok(JSON.stringify(listed.json()).includes(old.sessionId), listed.body);
      // A new login of the same user is sealed, and sits beside the old one (same slot).
      const fresh = await h.login(userId);
      const both = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: fresh.user });
      assert.ok(both.body.includes(old.sessionId) && both.body.includes(fresh.sessionId), both.body);
      const refreshed = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: old.refreshToken },
      });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      const pair = refreshed.json() as { accessToken: string; refreshToken: string };
      assert.equal((await h.introspect(pair.accessToken)).json().active, true);
      const end = await h.inject({
        method: 'DELETE',
        url: `/v1/admin/sessions/${old.sessionId}`,
        headers: h.service,
      });
      assert.equal(end.statusCode, 204, end.body);
      assert.deepEqual((await h.introspect(pair.accessToken)).json(), { active: false });
      const reused = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: pair.refreshToken },
      });
      assert.equal(reused.statusCode, 401, reused.body);
      assert.equal((await h.introspect(fresh.accessToken)).json().active, true, 'the new session lives on');
    });

    test('a tampered prefix is refused as invalid: a 4xx, never a 500, and never another session', async () => {
      const login = await h.login(uniqueUser());
      const bad = tampered(login.sessionId);
      for (const res of [
        await h.inject({ method: 'DELETE', url: `/v1/admin/sessions/${bad}`, headers: h.service }),
        await h.inject({ method: 'DELETE', url: `/v1/me/sessions/${bad}`, headers: login.user }),
      ]) {
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(errorCode(res), 'ERR_INVALID_ID');
      }
      const refresh = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: tampered(login.refreshToken) },
      });
      assert.equal(refresh.statusCode, 401, refresh.body);
      assert.equal((await h.introspect(login.accessToken)).json().active, true, 'untouched');
    });

    if (backend === 'redis') {
      test('two instances sharing Redis: a session created at A is listed, refreshed and revoked at B', async () => {
        const shared = await env();
        const a = await createHarness(shared);
        const b = await createHarness(shared);
        const login = await a.login(uniqueUser());
        const listed = await b.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
        assert.equal(listed.statusCode, 200, listed.body);
        assert.ok(listed.body.includes(login.sessionId), listed.body);
        const refreshed = await b.inject({
          method: 'POST',
          url: '/v1/token/refresh',
          payload: { refreshToken: login.refreshToken },
        });
        assert.equal(refreshed.statusCode, 200, refreshed.body);
        const pair = refreshed.json() as { accessToken: string };
        const end = await b.inject({
          method: 'DELETE',
          url: `/v1/admin/sessions/${login.sessionId}`,
          headers: b.service,
        });
        assert.equal(end.statusCode, 204, end.body);
        assert.deepEqual((await a.introspect(pair.accessToken)).json(), { active: false });
      });

      test('ID_TAG_SECRET: the same secret on another prefix seals alike, and Redis holds none', async () => {
        const secret = 'id-tag-secret-0123456789abcdef-0123456789';
        const one = await createHarness({ ...(await env()), ID_TAG_SECRET: secret });
        const twoEnv = { ...(await env()), ID_TAG_SECRET: secret };
        const two = await createHarness(twoEnv);
        const userId = uniqueUser();
        const x = await one.login(userId);
        const y = await two.login(userId);
        assert.equal(x.sessionId.split('.')[0], y.sessionId.split('.')[0]);
        const stored = await two.optix.redis!.get('meta:id_tag_secret');
        assert.equal(stored, null, 'no secret written when it comes from the configuration');
        const generated = await h.optix.redis!.get('meta:id_tag_secret');
        assert.ok(generated !== null && Buffer.from(generated, 'base64url').length >= 32, 'created once');
      });
    }
  });
}
