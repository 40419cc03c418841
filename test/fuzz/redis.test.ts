/**
 * The seeded fuzz test against a real Redis: a throwaway redis-server on a spare port (never the
 * shared 6379), fewer cases than on memory. FUZZ_SEED and FUZZ_REDIS_RUNS override the seed and
 * the number of cases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RedisServerHandle, startRedisServer } from '../helpers/redis-server.js';
import { fuzzSettings, runFuzz } from './runner.js';
import { buildWorld } from './world.js';

const { seed } = fuzzSettings({ seed: 20_261_126, runs: 0 });
const runsRaw = process.env.FUZZ_REDIS_RUNS;
const runs = runsRaw !== undefined && runsRaw.trim() !== '' ? Number(runsRaw) : 600;

describe('fuzz (redis)', () => {
  let server: RedisServerHandle;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server?.stop());

  test(`${runs} hostile cases against Redis (seed ${seed})`, async (t) => {
    assert.ok(Number.isSafeInteger(runs) && runs > 0, 'FUZZ_REDIS_RUNS must be a positive integer');
    t.diagnostic(
      `fuzz seed=${seed} runs=${runs} on redis-server :${server.port} (FUZZ_SEED, FUZZ_REDIS_RUNS)`,
    );
    const result = await runFuzz({
      backend: 'redis',
      redisUrl: server.url,
      seed,
      runs,
      log: (line) => t.diagnostic(line),
    });
    t.diagnostic(
      `${result.stats.cases} cases, ${result.stats.actions} actions, ${(result.durationMs / 1000).toFixed(1)} s`,
    );
    for (const line of result.stats.summary().split('\n')) t.diagnostic(line);
    assert.deepEqual(
      result.failures.map((f) => `batch ${f.batch} (FUZZ_SEED=${f.seed}): ${f.message}`),
      [],
    );
    assert.equal(result.unhandledRejections, 0, 'unhandled rejections');
  });

  test('fixed since reported: a TTL Redis cannot hold is refused, later revocations still answer 200', async () => {
    const world = await buildWorld({ backend: 'redis', redisUrl: server.url });
    try {
      const a = await world.newVictim('ed');
      const b = await world.newVictim('ed');
      await assert.rejects(
        world.optix.jwt.revokeToken({ jti: a.jti, userId: a.userId, reason: 'huge', ttlSeconds: 1e14 }),
        { code: 'ERR_INVALID_ARGUMENT' },
      );
      const res = await world.app.inject({ method: 'POST', url: '/v1/revoke', payload: { token: b.access } });
      assert.equal(res.statusCode, 200, `RFC 7009 revoke after it: ${res.statusCode} ${res.body}`);
    } finally {
      await world.close();
    }
  });
});
