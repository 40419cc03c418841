/**
 * Issue 2 §2, the guide's connection options as `RedisClient` honours them against a real server:
 * `retryOnTimeout` (`REDIS_RETRY_ON_TIMEOUT`) decides whether a dropped connection comes back, and
 * the key namespace prefix is applied to every key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisClient } from '../../src/connection/client.js';
import { type RedisServerHandle, startRedisServer } from '../helpers/redis-server.js';

async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${what}: not within ${timeoutMs} ms`);
}

describe('RedisClient options on a real server', () => {
  let server: RedisServerHandle;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server?.stop());

  it('retryOnTimeout: true reconnects after the server restarts; false stays down', async () => {
    const opts = {
      url: server.url,
      commandTimeoutMs: 300,
      connectTimeoutMs: 1000,
      clientSideCache: false as const,
    };
    const retrying = new RedisClient({ ...opts, keyPrefix: 'retry:' });
    const giving = new RedisClient({ ...opts, keyPrefix: 'noretry:', retryOnTimeout: false });
    await Promise.all([retrying.connect(), giving.connect()]);
    try {
      await retrying.set('k', 'v');
      await giving.set('k', 'v');
      await server.restart();
      // The retrying client is back on its own …
      await eventually('the retrying client works again', 5000, async () => {
        await retrying.set('k', 'again');
        return (await retrying.get('k')) === 'again';
      });
      // … while the other one, given the same time and more, still fails every command.
      for (let i = 0; i < 5; i++) {
        await assert.rejects(giving.get('k'), (err: { code?: string }) => {
          assert.match(String(err.code), /^ERR_STORE_(UNAVAILABLE|TIMEOUT)$/);
          return true;
        });
      }
      assert.equal((await giving.healthCheck()).status, 'unhealthy');
    } finally {
      await Promise.all([retrying.close(), giving.close()]);
    }
  });

  it('an idle connection stays up: the socket timeout closes silent servers, not quiet clients', async () => {
    // node-redis's socketTimeout fires on a connection that sends nothing; without a keepalive an
    // idle service lost its connection every socketTimeoutMs (for good with retryOnTimeout: false).
    const warnings: string[] = [];
    const logger = { warn: (_obj: object, msg: string) => warnings.push(msg) };
    const steady = new RedisClient(
      { url: server.url, socketTimeoutMs: 200, retryOnTimeout: false, keyPrefix: 'idle:' },
      { logger },
    );
    await steady.connect();
    try {
      await steady.set('k', 'before', { ttlSeconds: 60 });
      await new Promise((r) => setTimeout(r, 800)); // idle for four socket timeouts
      assert.deepEqual(warnings, []);
      assert.equal(await steady.get('k'), 'before');
      assert.equal((await steady.healthCheck()).status, 'healthy');
    } finally {
      await steady.close();
    }
  });

  it('the key prefix namespaces every key; the same key under two prefixes is two keys', async () => {
    const a = new RedisClient({ url: server.url, keyPrefix: 'app-a:' });
    const b = new RedisClient({ url: server.url, keyPrefix: 'app-b:' });
    const raw = new RedisClient({ url: server.url });
    await Promise.all([a.connect(), b.connect(), raw.connect()]);
    try {
      await a.set('shared-name', 'from a', { ttlSeconds: 60 });
      await b.set('shared-name', 'from b', { ttlSeconds: 60 });
      assert.equal(await a.get('shared-name'), 'from a');
      assert.equal(await b.get('shared-name'), 'from b');
      assert.equal(await raw.get('app-a:shared-name'), 'from a');
      assert.equal(await raw.get('shared-name'), null);
      assert.equal(await a.delete('shared-name'), true);
      assert.equal(await b.get('shared-name'), 'from b');
    } finally {
      await Promise.all([a.close(), b.close(), raw.close()]);
    }
  });
});
