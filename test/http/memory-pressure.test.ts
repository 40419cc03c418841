/**
 * Revocations under memory pressure, on a spawned redis-server with a small `maxmemory` and
 * `noeviction`, two instances sharing it: one account floods logins and device trusts; above
 * REDIS_SHED_ABOVE_PERCENT those are refused (503 ERR_STORE_BUSY, Retry-After, counted), and a
 * revoke still succeeds, its token inactive on both instances.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createClient } from '@redis/client';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, uniqueUser } from './harness.js';

describe('revocations under memory pressure (maxmemory 3mb, noeviction)', async () => {
  const server = await startRedisServer({
    args: ['--maxmemory', '3mb', '--maxmemory-policy', 'noeviction'],
  });
  after(() => server.stop());
  const env = {
    REDIS_URL: server.url,
    REDIS_KEY_PREFIX: uniquePrefix(),
    REDIS_SHED_ABOVE_PERCENT: '80',
    REDIS_MEMORY_SAMPLE_INTERVAL_MS: '50',
    RATE_LIMIT_ME_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_REVOKE_PER_MINUTE: '0',
  };
  const a = await createHarness(env);
  const b = await createHarness(env);

  test('after a flood from one account, a revoke still succeeds and the token is inactive on both instances', async (t) => {
    const victim = await a.login(uniqueUser('victim'), { mfaVerified: true, deviceFingerprint: 'victim-fp' });
    const victim2 = await b.login(uniqueUser('victim'));
    const hostile = uniqueUser('hostile');
    const ua = 'U'.repeat(1024);
    const statuses = new Map<string, number>();
    let busy: Awaited<ReturnType<Harness['inject']>> | null = null;
    let sent = 0;
    // Logins (each with a new device) from one account through both instances, 20 at a time,
    // until they are refused and then for 200 more.
    let stopAt = Number.POSITIVE_INFINITY;
    while (sent < 20_000 && sent < stopAt) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).inject({
            method: 'POST',
            url: '/v1/sessions',
            headers: a.service,
            payload: {
              userId: hostile,
              ipAddress: '203.0.113.9',
              userAgent: ua,
              deviceFingerprint: `${sent + i}`.padEnd(512, 'f'),
            },
          }),
        ),
      );
      sent += batch.length;
      for (const res of batch) {
        const key = res.statusCode === 201 ? '201' : `${res.statusCode} ${errorCode(res)}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (res.statusCode === 503 && busy === null) {
          busy = res;
          stopAt = sent + 200;
        }
      }
    }
    t.diagnostic(`flood of ${sent} logins: ${JSON.stringify([...statuses])}`);
    assert.ok(busy !== null, 'logins were refused at some point');
    assert.equal(errorCode(busy), 'ERR_STORE_BUSY');
    assert.equal(busy.headers['retry-after'], '5');
    assert.deepEqual(
      [...statuses.keys()].sort(),
      ['201', '503 ERR_STORE_BUSY'],
      'every refusal is ERR_STORE_BUSY: Redis itself never ran out',
    );

    // A device trust waits too.
    const trust = await a.inject({
      method: 'POST',
      url: '/v1/me/devices',
      headers: victim.user,
      payload: { deviceName: 'Phone', deviceType: 'mobile' },
    });
    assert.equal(trust.statusCode, 503);
    assert.equal(errorCode(trust), 'ERR_STORE_BUSY');

    // Revocations of every kind still work: a refresh token (its family and session) through B,
    // an access token through A, a logout through B, a user's sessions through the admin API on A.
    const revokeRefresh = await b.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: victim.refreshToken },
    });
    assert.equal(revokeRefresh.statusCode, 200, revokeRefresh.body);
    const revokeAccess = await a.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: victim2.accessToken },
    });
    assert.equal(revokeAccess.statusCode, 200, revokeAccess.body);
    const hostileSessions = await a.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${hostile}/sessions`,
      headers: a.service,
    });
    assert.ok(hostileSessions.statusCode < 300, hostileSessions.body);
    for (const h of [a, b]) {
      for (const token of [victim.accessToken, victim2.accessToken]) {
        const intro = await h.introspect(token);
        assert.equal(intro.statusCode, 200, intro.body);
        assert.deepEqual(intro.json(), { active: false });
      }
    }

    // Counted.
    const metrics = await a.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /optix_store_shed_total\{write="login"\} [1-9]/);
    const admin = createClient({ url: server.url });
    await admin.connect();
    const info = await admin.info('memory');
    await admin.quit();
    t.diagnostic(
      info
        .split('\r\n')
        .filter((l) => /^(used_memory|maxmemory):/.test(l))
        .join(' '),
    );
  });
});
