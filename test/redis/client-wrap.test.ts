/**
 * `RedisClient.wrap` and `runScript` when the call throws synchronously (a runner need not be
 * async): the caller gets the typed store error at once, and the call's deadline is cleared — a
 * deadline left behind would later drop every cached answer of the client (`tracking.reset`) as if
 * Redis had stopped answering.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisClient } from '../../src/connection/client.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { ownRedisServer } from '../helpers/own-redis.js';

describe('RedisClient: a call that throws synchronously', () => {
  const own = ownRedisServer();
  const TIMEOUT_MS = 150;

  it('rejects with StoreUnavailableError and leaves the client-side cache alone', async () => {
    const client = own.opened(new RedisClient({ url: own.server.url, commandTimeoutMs: TIMEOUT_MS }));
    await client.connect();
    const tracking = client.tracking;
    assert.ok(tracking !== null, 'the client-side cache is on by default');
    const facts = tracking.derivedCache<string>();
    const now = Date.now();
    facts.set('fact', 'kept', now + 60_000, ['probe:key'], facts.since());
    assert.equal(facts.get('fact', now), 'kept');

    await assert.rejects(
      client.wrap('probe', () => {
        throw new Error('boom');
      }),
      (err: unknown) => err instanceof StoreUnavailableError && /probe/.test((err as Error).message),
    );

    // Past the call's deadline: had it been left armed, it would have reset the cache by now.
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
    assert.equal(facts.get('fact', Date.now()), 'kept');
    // And the client still works.
    assert.equal(typeof (await client.ping()), 'number');
  });
});
