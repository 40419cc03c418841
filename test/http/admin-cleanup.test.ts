/** `POST /v1/admin/cleanup` (what `optix-sessions --url … cleanup` calls), on both backends. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, type Harness } from './harness.js';

async function cleanup(name: string, make: () => Promise<Harness>) {
  describe(`POST /v1/admin/cleanup (${name})`, async () => {
    const h = await make();

    test('needs a service key', async () => {
      const res = await h.inject({ method: 'POST', url: '/v1/admin/cleanup' });
      assert.equal(res.statusCode, 401);
    });

    test('sweeps and reports the counts', async () => {
      await h.login('cleanup-user');
      const res = await h.inject({ method: 'POST', url: '/v1/admin/cleanup', headers: h.service });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.skipped, false);
      assert.equal(typeof body.jwt.blacklistIndexEntries, 'number');
      assert.equal(typeof body.sessions.scanned, 'number');
      assert.equal(typeof body.sessions.sessionIndexEntries, 'number');
    });

    if (name === 'redis') {
      test('while another instance holds the lock: skipped, nothing done', async () => {
        const redis = h.optix.redis!;
        const lock = createKeySchema(redis.keyPrefix).cleanupLock();
        await redis.wrap('set', () =>
          redis.commands.set(lock, 'someone-else', { expiration: { type: 'PX', value: 10_000 } }),
        );
        try {
          const res = await h.inject({ method: 'POST', url: '/v1/admin/cleanup', headers: h.service });
          assert.equal(res.statusCode, 200, res.body);
          assert.equal(res.json().skipped, true);
          assert.equal(res.json().jwt, null);
        } finally {
          await redis.wrap('del', () => redis.commands.del(lock));
        }
      });
    }
  });
}

await cleanup('memory', () => createHarness());
await cleanup('redis', async () =>
  createHarness({ REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() }),
);
