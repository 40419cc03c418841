/**
 * Redis under memory pressure (`maxmemory 2mb`), revocations written through the JWT service until
 * memory is full:
 *
 * - `noeviction` (the policy we recommend): writes fail with a clear OOM error
 *   (ERR_STORE_BUSY), nothing is evicted, every acknowledged revocation still refuses its
 *   token, and token verification keeps working; `checkEvictionPolicy()` reports it safe.
 * - `allkeys-lru` and `volatile-lru`: writes never fail, Redis silently evicts blacklist entries and
 *   revoked tokens verify again; `checkEvictionPolicy()` reports the policy unsafe.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { infoOf, startStandalone } from './harness.js';
import { connectInstance, type Instance } from './load.js';

const MAXMEMORY = '2mb';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(policy: string) {
  const server = await startStandalone({ maxmemory: MAXMEMORY, maxmemoryPolicy: policy });
  cleanups.push(() => server.stop());
  const inst: Instance = await connectInstance({ url: server.url, commandTimeoutMs: 2000 });
  cleanups.push(() => inst.redis.close());
  return { server, inst };
}

interface Revoked {
  token: string;
}

/**
 * Revokes fresh access tokens, 32 at a time, until `stop()` says so or a write fails; resolves with
 * the acknowledged ones and the first failure.
 */
async function revokeUntil(
  inst: Instance,
  stop: (acked: number) => Promise<boolean>,
): Promise<{ acked: Revoked[]; failure: (Error & { code?: string }) | null }> {
  const acked: Revoked[] = [];
  const userId = 'memory-pressure-user';
  for (let round = 0; round < 2000; round++) {
    const batch = await Promise.all(
      Array.from({ length: 32 }, async () => (await inst.jwt.createAccessToken({ userId })).token),
    );
    const results = await Promise.allSettled(batch.map((t) => inst.jwt.revokeAccessToken(t, 'logout')));
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') acked.push({ token: batch[i]! });
      else return { acked, failure: r.reason as Error & { code?: string } };
    }
    if (await stop(acked.length)) return { acked, failure: null };
  }
  throw new Error('memory never filled up');
}

/** How many acknowledged revocations no longer refuse their token. */
async function acceptedAgain(inst: Instance, revoked: readonly Revoked[]): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < revoked.length; i += 64) {
    const answers = await Promise.allSettled(
      revoked.slice(i, i + 64).map((r) => inst.jwt.verifyToken(r.token)),
    );
    for (const a of answers) {
      if (a.status === 'fulfilled') accepted++;
      else assert.equal((a.reason as { code?: string }).code, 'ERR_TOKEN_REVOKED');
    }
  }
  return accepted;
}

describe('memory pressure', () => {
  it('noeviction: writes fail with a clear OOM error, nothing is evicted, revocations hold', async () => {
    const { server, inst } = await setup('noeviction');
    const report = await inst.redis.checkEvictionPolicy();
    assert.equal(report.safe, true);
    assert.equal(report.policy, 'noeviction');
    assert.equal(report.maxmemoryBytes, 2 * 1024 * 1024);

    const { acked, failure } = await revokeUntil(inst, async () => false);
    assert.ok(failure, 'a write failed once memory was full');
    assert.equal(failure.code, 'ERR_STORE_BUSY');
    assert.match(failure.message, /OOM command not allowed when used memory > 'maxmemory'/);
    assert.ok(acked.length > 100, `${acked.length} revocations written before memory was full`);

    const stats = await infoOf(server.cli, 'stats');
    assert.equal(stats.evicted_keys, '0', 'nothing evicted');
    // Reads still work while full: every acknowledged revocation still refuses its token.
    assert.equal(await acceptedAgain(inst, acked), 0, 'revoked tokens accepted again');
    // A login (a write) fails clearly instead of half-happening.
    await assert.rejects(
      inst.sessions.createSession({ userId: 'u-oom', ipAddress: '203.0.113.9', userAgent: 'test' }),
      (err: Error & { code?: string }) => err.code === 'ERR_STORE_BUSY' && /OOM/.test(err.message),
    );
    console.log(
      `# noeviction at ${MAXMEMORY}: ${acked.length} revocations acknowledged, then "${failure.message.slice(0, 90)}"; ` +
        `0 evicted; 0 revoked tokens accepted`,
    );
  });

  for (const policy of ['allkeys-lru', 'volatile-lru']) {
    it(`${policy}: revocations are evicted silently and revoked tokens verify again (reported unsafe)`, async () => {
      const { server, inst } = await setup(policy);
      const report = await inst.redis.checkEvictionPolicy();
      assert.equal(report.safe, false);
      assert.equal(report.policy, policy);
      assert.match(report.message, /can evict revocation entries/);

      // Keep writing until Redis has evicted a few hundred keys: no write ever fails.
      const { acked, failure } = await revokeUntil(
        inst,
        async () => Number((await infoOf(server.cli, 'stats')).evicted_keys) > 500,
      );
      assert.equal(failure, null, 'no write failed');
      const accepted = await acceptedAgain(inst, acked);
      assert.ok(accepted > 0, 'evicted revocations let their tokens through');
      console.log(
        `# ${policy} at ${MAXMEMORY}: ${acked.length} revocations acknowledged without an error; ` +
          `${accepted} of those revoked tokens verify again`,
      );
    });
  }
});
