/**
 * The worst-case Redis bytes one user can hold (docs/data-model.md, "What one user can hold"),
 * checked on a real Redis: one hostile user floods logins, device trusts, logout-others and
 * revocations over HTTP with every field at its largest, and `MEMORY USAGE` of every key under the
 * test's prefix (all of them this user's) must stay within the stated bound.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient } from '@redis/client';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, uniqueUser } from './harness.js';
import { userBoundBytes } from './user-bound.js';

describe('the bytes one user can hold in Redis', async () => {
  const url = await getTestRedisUrl();
  const prefix = uniquePrefix();
  const limits = { sessions: 5, devices: 20, events: 200 };
  const h = await createHarness({
    REDIS_URL: url,
    REDIS_KEY_PREFIX: prefix,
    MAX_SESSIONS_PER_USER: String(limits.sessions),
    MAX_TRUSTED_DEVICES_PER_USER: String(limits.devices),
    MAX_SECURITY_EVENTS_PER_USER: String(limits.events),
    RATE_LIMIT_ME_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_REVOKE_PER_MINUTE: '0',
  });

  test('a flood from one user stays within sessions × (S + F) + devices × D + events × E + revoked tokens × B + K', async (t) => {
    const userId = `${uniqueUser('hostile')}-${'x'.repeat(200)}`;
    const ua = 'U'.repeat(1024);
    const logins = 40;
    for (let i = 0; i < logins; i++) {
      // An MFA-verified login on a new device, which it then trusts (the route trusts the session's own).
      const login = await h.login(userId, {
        userAgent: ua,
        ipAddress: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
        deviceFingerprint: `${i}`.padEnd(512, 'f'),
        mfaVerified: true,
      });
      const res = await h.inject({
        method: 'POST',
        url: '/v1/me/devices',
        headers: { ...login.user, 'user-agent': ua },
        payload: { deviceName: 'N'.repeat(128), deviceType: 'T'.repeat(64), durationDays: 365 },
      });
      assert.equal(res.statusCode, 201, res.body);
      if (i % 10 === 4) await h.inject({ method: 'POST', url: '/v1/me/logout-others', headers: login.user });
      await h.inject({ method: 'POST', url: '/v1/revoke', payload: { token: login.accessToken } });
      await h.inject({ method: 'POST', url: '/v1/revoke', payload: { token: login.accessToken } });
    }

    const admin = createClient({ url });
    await admin.connect();
    try {
      const byKind = new Map<string, { keys: number; bytes: number; max: number }>();
      let total = 0;
      for await (const batch of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
        for (const key of batch) {
          const bytes = Number(await admin.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
          const name = key.slice(prefix.length);
          const kind = name.includes('{') ? name.replace(/\{.*$/, '{…}') : name.replace(/:[^:]*$/, ':…');
          const k = byKind.get(kind) ?? { keys: 0, bytes: 0, max: 0 };
          k.keys++;
          k.bytes += bytes;
          k.max = Math.max(k.max, bytes);
          byKind.set(kind, k);
          total += bytes;
        }
      }
      const bound = userBoundBytes({ ...limits, revokedTokens: logins });
      t.diagnostic(
        `${total} bytes for one user after ${logins} logins (bound ${bound}): ${JSON.stringify([...byKind])}`,
      );
      const count = (kind: string) => byKind.get(kind)?.keys ?? 0;
      assert.ok(count('session:{…}') <= limits.sessions, 'sessions within the cap');
      assert.ok(count('trusted:device:{…}') <= limits.devices, 'devices within the cap');
      assert.ok(
        count('security:event:{…}') <= limits.events,
        'event records within the bound (trimmed with the index)',
      );
      assert.ok(total <= bound, `${total} bytes > the stated bound ${bound}`);
    } finally {
      await admin.quit();
    }
  });
});
