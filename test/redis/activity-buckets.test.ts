/**
 * `ActivityBucketStore` on Redis, what the contract cannot see: the keys (one per minute and field,
 * all of a minute on its hash tag) and their TTL (the retention, renewed by each add; the sample
 * claim and the sample carry it too).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIVITY_MINUTE_MS, ACTIVITY_RETENTION_MS } from '../../src/core/activity.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sharedClient } from './stores.js';

describe('Redis activity buckets', () => {
  it('one key per minute and field on the minute’s hash tag, each living the retention', async () => {
    const client = await sharedClient();
    const prefix = uniquePrefix();
    const { activity } = createRedisStores(client, { keyPrefix: prefix });
    const m = Math.floor(Date.now() / ACTIVITY_MINUTE_MS) * ACTIVITY_MINUTE_MS;
    await activity.add(m, { logins: 2, reuse: 1, refreshes: 0 });
    assert.equal(await activity.claimSample(m), true);
    await activity.setSample(m, 5);
    const keys: string[] = [];
    for await (const batch of client.commands.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
      keys.push(...batch);
    }
    assert.deepEqual(
      keys.map((k) => k.slice(prefix.length)).sort(),
      ['logins', 'reuse', 'sessions', 'sessions_lock'].map((f) => `activity:{${m}}:${f}`),
      'a zero delta writes no key',
    );
    for (const key of keys) {
      const ttl = await client.commands.pTTL(key);
      assert.ok(ttl > ACTIVITY_RETENTION_MS - 60_000 && ttl <= ACTIVITY_RETENTION_MS, `${key}: ${ttl}`);
    }
    assert.equal(await client.commands.get(`${prefix}activity:{${m}}:logins`), '2');
  });
});
