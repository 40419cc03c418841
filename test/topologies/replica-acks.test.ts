/**
 * Revocation-class writes wait for the replica (RedisClient `replicaAcks`, default 1 on Sentinel),
 * on a real master + replica found through sentinels:
 * - acknowledged → the replica already holds the write;
 * - the replica frozen (SIGSTOP; still connected, so it could be promoted without the write) → the
 *   write is reported as failed at the deadline, and reads keep working; it succeeds again once it
 *   thaws;
 * - the replica gone (SIGKILL: no replica left that could be promoted) → acknowledged, counted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerReplicaAckMetrics } from '../../src/http/metrics.js';
import { RedisClient } from '../../src/connection/client.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import type { Stores } from '../../src/core/ports.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { redisCli, type SentinelTopology, type ServerProcess, startSentinel, waitFor } from './harness.js';

describe('revocations confirmed by the replica (Sentinel, replicaAcks default)', () => {
  let t: SentinelTopology;
  let redis: RedisClient;
  let stores: Stores;
  let replica: ServerProcess;
  const prefix = uniquePrefix();
  let n = 0;
  const revoke = () =>
    stores.tokenBlacklist.blacklistToken({ jti: `jti-${n++}`, ttlSeconds: 600, reason: 'logout' });

  before(async () => {
    t = await startSentinel();
    const replicaPort = t.dataPorts[1]!;
    replica = t.processes.find((p) => p.port === replicaPort)!;
    redis = new RedisClient({ url: t.url, keyPrefix: prefix, commandTimeoutMs: 1000 });
    await redis.connect();
    stores = createRedisStores(redis);
  });

  after(async () => {
    if (replica?.isRunning()) replica.child.kill('SIGCONT');
    await redis?.close();
    await t?.stop();
  });

  it('defaults to one replica on Sentinel', () => {
    assert.equal(redis.options.replicaAcks, 1);
  });

  it('an acknowledged revocation is already on the replica', async () => {
    for (let i = 0; i < 50; i++) {
      const jti = `seen-${i}`;
      await stores.tokenBlacklist.blacklistToken({ jti, ttlSeconds: 600, reason: 'logout' });
      const keys = await redisCli({ port: replica.port }, ['KEYS', `${prefix}*${jti}*`]);
      assert.notEqual(keys.trim(), '', `revocation ${jti} not on the replica when acknowledged`);
    }
    assert.equal(redis.replicaAcks.unconfirmed + redis.replicaAcks.unreplicated, 0);
  });

  it('a frozen but connected replica: revocations fail at the deadline, reads go on, and work again after', async () => {
    replica.child.kill('SIGSTOP');
    try {
      const start = performance.now();
      await assert.rejects(
        revoke(),
        (err: unknown) => (err as { code?: string }).code === 'ERR_STORE_UNAVAILABLE',
      );
      const took = performance.now() - start;
      // Short WAITs until the deadline (commandTimeoutMs 1000), not beyond.
      assert.ok(took >= 900 && took < 1500, `the refusal took ${took.toFixed(0)} ms`);
      assert.ok(redis.replicaAcks.unconfirmed >= 1);
      assert.equal(await stores.tokenBlacklist.isBlacklisted('seen-0'), true, 'reads still answered');
    } finally {
      replica.child.kill('SIGCONT');
    }
    await waitFor('revocations confirmed again after the replica thawed', 10_000, async () => {
      try {
        await revoke();
        return true;
      } catch {
        return false;
      }
    });
  });

  it('no replica left: revocations are acknowledged (nothing could be promoted without them), counted', async () => {
    await replica.kill();
    await waitFor('master sees no replica', 10_000, async () =>
      (await redisCli({ port: t.dataPorts[0]! }, ['INFO', 'replication'])).includes('connected_slaves:0'),
    );
    const before = redis.replicaAcks.unreplicated;
    const start = performance.now();
    for (let i = 0; i < 20; i++) await revoke();
    const took = performance.now() - start;
    assert.ok(redis.replicaAcks.unreplicated >= before + 20);
    // One 50 ms WAIT found it out; the other 19 skipped the check.
    assert.ok(took < 600, `20 revocations took ${took.toFixed(0)} ms`);
    assert.equal(await stores.tokenBlacklist.isBlacklisted(`jti-${n - 1}`), true);
    // What /metrics shows of it.
    const registry = new Registry();
    registerReplicaAckMetrics(registry, redis.replicaAcks);
    const text = await registry.metrics();
    const count = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.equal(count('optix_revocation_writes_unreplicated_total'), redis.replicaAcks.unreplicated);
    assert.ok(count('optix_revocation_writes_unreplicated_total') >= 20);
    assert.ok(count('optix_revocation_writes_unconfirmed_total') >= 1, 'the frozen-replica refusals');
  });
});
