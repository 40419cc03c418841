/**
 * MemoryGuard on a real redis-server: it sheds from the sampled share of `maxmemory`, at once on an
 * OOM reply, stops when a sample is under the threshold again, and tells its listeners.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { RedisClient } from '../../src/connection/client.js';
import {
  MemoryGuard,
  type MemoryGuardState,
  type SheddableWrite,
} from '../../src/connection/memory-guard.js';
import { startRedisServer } from '../helpers/redis-server.js';

describe('MemoryGuard', async () => {
  const server = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
  const admin = createClient({ url: server.url });
  await admin.connect();
  const client = new RedisClient({ url: server.url, clientSideCache: false });
  await client.connect();
  after(async () => {
    await admin.quit();
    await client.close();
    await server.stop();
  });

  it('sheds above the share of maxmemory, stops below it, and reports both', async () => {
    const guard = new MemoryGuard(client, { shedAbovePercent: 50, sampleIntervalMs: 1000 });
    const shed: SheddableWrite[] = [];
    const states: MemoryGuardState[] = [];
    guard.listen({ onShed: (w) => shed.push(w), onStateChange: (s) => states.push(s) });

    await admin.configSet('maxmemory', '0');
    await guard.sample();
    assert.equal(guard.state.shedding, false, 'no maxmemory: nothing to compare with');
    assert.equal(guard.admit('login'), true);

    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    // used is 60 % of this maxmemory: above 50 %.
    await admin.configSet('maxmemory', String(Math.ceil(used / 0.6)));
    await guard.sample();
    assert.equal(guard.state.shedding, true);
    assert.equal(guard.state.reason, 'memory');
    assert.equal(guard.admit('login'), false);
    assert.equal(guard.admit('event'), false);
    assert.deepEqual(shed, ['login', 'event']);

    await admin.configSet('maxmemory', String(used * 10));
    await guard.sample();
    assert.equal(guard.state.shedding, false);
    assert.equal(guard.admit('device_trust'), true);
    assert.deepEqual(
      states.map((s) => [s.shedding, s.reason]),
      [
        [true, 'memory'],
        [false, null],
      ],
    );
  });

  it('an OOM reply turns shedding on at once; the next sample under the threshold turns it off', async () => {
    const guard = new MemoryGuard(client, { shedAbovePercent: 90, sampleIntervalMs: 1000 });
    client.onOom = () => guard.noteOom();
    try {
      await admin.configSet('maxmemory', '1');
      await assert.rejects(client.set('guard-test', 'x'), { code: 'ERR_STORE_BUSY' });
      assert.equal(guard.state.shedding, true);
      assert.equal(guard.state.reason, 'oom');
      await admin.configSet('maxmemory', '0');
      await guard.sample();
      assert.equal(guard.state.shedding, false);
    } finally {
      client.onOom = null;
      await admin.configSet('maxmemory', '0');
    }
  });
});
