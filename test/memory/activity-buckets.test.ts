/**
 * `ActivityBucketStore` in memory, what the contract cannot see: minutes older than the retention
 * before the newest minute written are forgotten (the map stays bounded without a timer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIVITY_MINUTE_MS, ACTIVITY_RETENTION_MS } from '../../src/core/activity.js';
import { MemoryActivityBuckets } from '../../src/stores/memory/activity-buckets.js';

describe('memory activity buckets', () => {
  it('forgets minutes past the retention once a newer minute is written', async () => {
    const a = new MemoryActivityBuckets();
    const m = Date.UTC(2026, 0, 1);
    await a.add(m, { logins: 1 });
    const kept = m + ACTIVITY_RETENTION_MS;
    await a.add(kept, { logins: 2 });
    assert.equal((await a.read([m]))[0]?.logins, 1, 'exactly the retention old: kept');
    await a.add(kept + ACTIVITY_MINUTE_MS, { logins: 3 });
    const [old, mid, last] = await a.read([m, kept, kept + ACTIVITY_MINUTE_MS]);
    assert.equal(old?.logins, 0, 'older than the retention: forgotten');
    assert.equal(mid?.logins, 2);
    assert.equal(last?.logins, 3);
    // A write to a minute already past the retention is not kept.
    await a.add(m, { logins: 9 });
    assert.equal((await a.read([m]))[0]?.logins, 0);
  });
});
