/**
 * Refresh families are bounded by the session cap (docs/data-model.md, "What one user can hold"):
 * a hostile client logs in again and again over HTTP and ends its sessions every way the service
 * offers (logout, logout with the refresh token, eviction by the cap, id rotation, theft, an admin
 * ending one session or all of them). On a real Redis, the user's family keys never outnumber the
 * cap, the bytes stay within the stated bound (no term per login), and every credential of an
 * ended session is still refused although its family is gone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient } from '@redis/client';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, uniqueUser } from './harness.js';
import { userBoundBytes } from './user-bound.js';

describe('refresh families per user are bounded by the session cap (Redis, over HTTP)', async () => {
  const url = await getTestRedisUrl();
  const prefix = uniquePrefix();
  const cap = 3;
  const h = await createHarness({
    REDIS_URL: url,
    REDIS_KEY_PREFIX: prefix,
    MAX_SESSIONS_PER_USER: String(cap),
    MAX_SECURITY_EVENTS_PER_USER: '50',
    REFRESH_GRACE_SECONDS: '0',
    RATE_LIMIT_ME_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_REVOKE_PER_MINUTE: '0',
    RATE_LIMIT_REFRESH_PER_MINUTE: '0',
  });

  /** Every key under the test's prefix (all this user's, or shared indexes), by kind. */
  async function scan() {
    const admin = createClient({ url });
    await admin.connect();
    try {
      const byKind = new Map<string, { keys: number; bytes: number }>();
      let total = 0;
      let blacklist = 0;
      for await (const batch of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
        for (const key of batch) {
          const bytes = Number(await admin.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
          const name = key.slice(prefix.length);
          const kind = name.includes('{') ? name.replace(/\{.*$/, '{…}') : name.replace(/:[^:]*$/, ':…');
          const k = byKind.get(kind) ?? { keys: 0, bytes: 0 };
          k.keys++;
          k.bytes += bytes;
          byKind.set(kind, k);
          total += bytes;
          if (name.startsWith('token:blacklist')) blacklist += bytes;
        }
      }
      const familyIndex = [...byKind.keys()].some((k) => k === 'user:families:{…}')
        ? Number(
            await (async () => {
              for await (const batch of admin.scanIterator({ MATCH: `${prefix}user:families:*` })) {
                for (const key of batch) return admin.hLen(key);
              }
              return 0;
            })(),
          )
        : 0;
      // What the user holds, without the revoked access tokens' blacklist entries (they follow
      // the revocations and live one access-token life: their own term of the bound).
      return {
        total,
        withoutBlacklist: total - blacklist,
        byKind,
        families: byKind.get('token:family:{…}')?.keys ?? 0,
        familyIndex,
      };
    } finally {
      await admin.quit();
    }
  }

  test('120 logins ended every way leave at most the cap of families; ended credentials stay refused', async (t) => {
    const userId = uniqueUser('hostile');
    const ended: Array<{ accessToken: string; refreshTokens: string[]; how: string }> = [];
    const samples: Array<{ logins: number; total: number; families: number }> = [];
    const logins = 120;
    for (let i = 0; i < logins; i++) {
      const login = await h.login(userId, { deviceFingerprint: `fp-${i}` });
      // One refresh (the family moves on; the first token is now an old one).
      const r1 = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: login.refreshToken },
      });
      assert.equal(r1.statusCode, 200, r1.body);
      const pair = r1.json() as { accessToken: string; refreshToken: string };
      const tokens = [login.refreshToken, pair.refreshToken];
      const user = { authorization: `Bearer ${pair.accessToken}` };
      let how = 'evicted by the cap';
      switch (i % 6) {
        case 0: {
          how = 'logout';
          const res = await h.inject({ method: 'POST', url: '/v1/me/logout', headers: user });
          assert.equal(res.statusCode < 300, true, res.body);
          break;
        }
        case 1: {
          how = 'logout with the refresh token';
          const res = await h.inject({
            method: 'POST',
            url: '/v1/revoke',
            payload: { token: pair.refreshToken },
          });
          assert.equal(res.statusCode, 200, res.body);
          break;
        }
        case 2:
          break; // left live: the cap evicts it later
        case 3: {
          how = 'id rotation (its successor is left live)';
          const res = await h.inject({
            method: 'POST',
            url: `/v1/sessions/${encodeURIComponent(login.sessionId)}/rotate`,
            headers: h.service,
            payload: {},
          });
          assert.equal(res.statusCode, 200, res.body);
          break;
        }
        case 4: {
          how = 'theft (an old refresh token presented again)';
          // With a grace window of 0 ms, a presentation in the very millisecond of the rotation is
          // still within it (the window is inclusive, as the contract says): let the clock move on
          // past the rotation's time (no fixed sleep; a refresh can take under a millisecond).
          const rotatedBy = Date.now();
          while (Date.now() <= rotatedBy) await new Promise((resolve) => setImmediate(resolve));
          const res = await h.inject({
            method: 'POST',
            url: '/v1/token/refresh',
            payload: { refreshToken: login.refreshToken },
          });
          assert.equal(errorCode(res), 'ERR_REFRESH_REUSED');
          break;
        }
        case 5: {
          how = i % 12 === 5 ? 'admin revoke-all' : 'admin ends the session';
          const res = await h.inject({
            method: 'DELETE',
            url:
              i % 12 === 5
                ? `/v1/admin/users/${encodeURIComponent(userId)}/sessions`
                : `/v1/admin/sessions/${encodeURIComponent(login.sessionId)}`,
            headers: h.service,
          });
          assert.equal(res.statusCode < 300, true, res.body);
          break;
        }
      }
      ended.push({ accessToken: pair.accessToken, refreshTokens: tokens, how });
      if ((i + 1) % 30 === 0) {
        const s = await scan();
        samples.push({ logins: i + 1, total: s.withoutBlacklist, families: s.families });
        assert.ok(s.families <= cap, `${s.families} family keys after ${i + 1} logins (cap ${cap})`);
        assert.ok(s.familyIndex <= cap, `${s.familyIndex} family index entries after ${i + 1} logins`);
      }
    }
    // End the rest too (revoke-all), then log in once more: nothing of the old sessions is left.
    await h.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${encodeURIComponent(userId)}/sessions`,
      headers: h.service,
    });
    await h.login(userId);
    const end = await scan();
    t.diagnostic(
      `bytes/families by logins: ${JSON.stringify(samples)}; at the end ${JSON.stringify([...end.byKind])}`,
    );
    assert.equal(end.families, 1, 'only the live session’s family is left');
    assert.equal(end.familyIndex, 1);
    const bound = userBoundBytes({ sessions: cap, devices: 20, events: 50, revokedTokens: logins });
    assert.ok(end.total <= bound, `${end.total} bytes > the stated bound ${bound}`);
    // No growth per login: the last sample is no larger than the first by more than noise.
    assert.ok(
      samples.at(-1)!.total <= samples[0]!.total * 1.25,
      `bytes grew with logins: ${JSON.stringify(samples)}`,
    );

    // Every credential of every ended session is still refused, family or no family.
    for (const e of ended) {
      const intro = await h.introspect(e.accessToken);
      assert.equal(intro.statusCode, 200);
      assert.equal((intro.json() as { active: boolean }).active, false, `access token (${e.how})`);
      for (const refreshToken of e.refreshTokens) {
        const res = await h.inject({ method: 'POST', url: '/v1/token/refresh', payload: { refreshToken } });
        assert.equal(res.statusCode, 401, `refresh token (${e.how}): ${res.body}`);
        assert.match(errorCode(res), /^ERR_REFRESH_(INVALID|REVOKED|REUSED)$/);
      }
    }
  });
});
