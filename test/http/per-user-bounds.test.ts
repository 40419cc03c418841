/**
 * What one user can make is bounded, driven over HTTP as the user's app would, on both backends:
 * trusted devices (oldest trust evicted with an event), repeated revocations and logout-others
 * that change nothing (no new event), and `/v1/me/*` writes rate-limited per user (shared by two
 * instances on Redis).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, type LoginResult, uniqueUser } from './harness.js';

async function events(
  h: Harness,
  login: LoginResult,
): Promise<Array<{ type: string; details: Record<string, unknown> }>> {
  const res = await h.inject({
    method: 'GET',
    url: '/v1/me/security-events?limit=1000',
    headers: login.user,
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().events;
}

const count = (list: Array<{ type: string }>, type: string) => list.filter((e) => e.type === type).length;

for (const backend of ['memory', 'redis'] as const) {
  describe(`per-user bounds over HTTP (${backend})`, async () => {
    const base =
      backend === 'redis' ? { REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() } : {};
    const env = { ...base, MAX_TRUSTED_DEVICES_PER_USER: '3', RATE_LIMIT_ME_WRITES_PER_MINUTE: '0' };
    const h = await createHarness(env);

    test('trusting a device beyond MAX_TRUSTED_DEVICES_PER_USER evicts the trust that ends first, with an event', async () => {
      const userId = uniqueUser();
      let latest: LoginResult | null = null;
      // Each device is trusted from an MFA-verified session on it (the route trusts the session's own).
      const trust = async (n: number, days: number) => {
        latest = await h.login(userId, { mfaVerified: true, deviceFingerprint: `fp-${n}` });
        return h.inject({
          method: 'POST',
          url: '/v1/me/devices',
          headers: latest.user,
          payload: { deviceName: `Device ${n}`, deviceType: 'mobile', durationDays: days },
        });
      };
      const ids: string[] = [];
      for (const [n, days] of [
        [1, 300],
        [2, 30],
        [3, 200],
      ] as const) {
        const res = await trust(n, days);
        assert.equal(res.statusCode, 201, res.body);
        ids.push(res.json().deviceId);
      }
      const fourth = await trust(4, 100);
      assert.equal(fourth.statusCode, 201, fourth.body);
      const me = latest as unknown as LoginResult;
      const listed = await h.inject({ method: 'GET', url: '/v1/me/devices', headers: me.user });
      const kept = (listed.json().devices as Array<{ deviceId: string }>).map((d) => d.deviceId).sort();
      assert.deepEqual(kept, [ids[0]!, ids[2]!, fourth.json().deviceId].sort(), 'the 30-day trust went');
      const evictions = (await events(h, me)).filter((e) => e.type === 'trusted_device_evicted');
      assert.deepEqual(
        evictions.map((e) => e.details.deviceId),
        [ids[1]],
      );
      // A flood of 20 more keeps the bound.
      for (let n = 10; n < 30; n++) assert.equal((await trust(n, 365)).statusCode, 201);
      const after = await h.inject({
        method: 'GET',
        url: '/v1/me/devices',
        headers: (latest as unknown as LoginResult).user,
      });
      assert.equal(after.json().devices.length, 3);
    });

    test('logout-others that ends nothing and revoking a revoked token record no new event', async () => {
      const userId = uniqueUser();
      const me = await h.login(userId);
      const other = await h.login(userId);
      const first = await h.inject({ method: 'POST', url: '/v1/me/logout-others', headers: me.user });
      assert.deepEqual(first.json(), { ended: 1 });
      const before = await events(h, me);
      for (let i = 0; i < 5; i++) {
        const again = await h.inject({ method: 'POST', url: '/v1/me/logout-others', headers: me.user });
        assert.deepEqual(again.json(), { ended: 0 });
      }
      // The other session's access token and refresh token, revoked again and again (RFC 7009).
      for (let i = 0; i < 5; i++) {
        for (const token of [other.accessToken, other.refreshToken]) {
          const res = await h.inject({
            method: 'POST',
            url: '/v1/revoke',
            headers: h.service,
            payload: { token },
          });
          assert.equal(res.statusCode, 200);
        }
      }
      const after = await events(h, me);
      assert.equal(count(after, 'all_sessions_terminated'), count(before, 'all_sessions_terminated'));
      assert.equal(
        count(after, 'token_revoked'),
        count(before, 'token_revoked') + 1,
        'the first revoke only',
      );
      assert.ok(count(after, 'token_family_revoked') <= count(before, 'token_family_revoked') + 1);
      assert.ok(after.length <= before.length + 2, `${after.length - before.length} new events`);
    });

    test('/v1/me/* writes are limited per user (RATE_LIMIT_ME_WRITES_PER_MINUTE), across instances on Redis', async () => {
      const limited = { ...env, RATE_LIMIT_ME_WRITES_PER_MINUTE: '4' };
      if (backend === 'redis') limited.REDIS_KEY_PREFIX = uniquePrefix();
      const a = await createHarness(limited);
      const b = backend === 'redis' ? await createHarness(limited) : a;
      const userId = uniqueUser();
      const one = await a.login(userId, { mfaVerified: true, deviceFingerprint: 'fp-one' });
      const two = await a.login(userId, { mfaVerified: true, deviceFingerprint: 'fp-two' });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        // Two sessions of one user, two instances: one budget.
        const res = await (i % 2 === 0 ? a : b).inject({
          method: 'POST',
          url: '/v1/me/devices',
          headers: (i % 2 === 0 ? one : two).user,
          payload: { deviceName: 'Phone', deviceType: 'mobile' },
        });
        codes.push(res.statusCode);
        if (res.statusCode === 429) assert.equal(errorCode(res), 'ERR_RATE_LIMITED');
      }
      assert.deepEqual(codes, [201, 201, 201, 201, 429]);
      // Reads are not limited, and another user has a budget of their own.
      const read = await b.inject({ method: 'GET', url: '/v1/me/sessions', headers: one.user });
      assert.notEqual(read.statusCode, 429);
      const stranger = await a.login(uniqueUser());
      const theirs = await b.inject({ method: 'POST', url: '/v1/me/logout-others', headers: stranger.user });
      assert.equal(theirs.statusCode, 200);
    });
  });
}
