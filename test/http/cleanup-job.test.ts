/** The background cleanup job: logs cleanup_completed with stats; one instance sweeps per interval. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { createOptix } from '../../src/container.js';
import { startCleanupJob } from '../../src/http/cleanup-job.js';
import { createLogger } from '../../src/http/logger.js';
import { createMetrics } from '../../src/http/metrics.js';
import { logDestination, recordSecrets } from '../helpers/log-capture.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';

const JWT_SECRET = 'cleanup-test-secret-0123456789abcdef-0123456789';
recordSecrets(JWT_SECRET);

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    // Also captured for the suite-wide search for secrets in logs (test/helpers/log-capture.ts).
    destination: logDestination((chunk) => {
      for (const line of chunk.split('\n')) if (line) lines.push(JSON.parse(line));
    }),
  });
  return { logger, lines };
}

describe('cleanup job', () => {
  test('in memory: every round completes and logs cleanup_completed with jwt_stats and session_stats', async () => {
    const optix = await createOptix(loadConfig({ JWT_SECRET, LOG_LEVEL: 'silent' }));
    after(() => optix.close());
    const { logger, lines } = capture();
    const metrics = createMetrics({ defaultMetrics: false });
    const job = startCleanupJob({ optix, logger, metrics, intervalSeconds: 3600 });
    try {
      const outcome = await job.runOnce();
      assert.equal(outcome.status, 'completed');
      const line = lines.find((l) => l.msg === 'cleanup_completed');
      assert.ok(line, JSON.stringify(lines));
      assert.equal(typeof (line.jwt_stats as { durationMs: number }).durationMs, 'number');
      assert.equal(typeof (line.session_stats as { scanned: number }).scanned, 'number');
      assert.match(await metrics.registry.metrics(), /optix_cleanup_runs_total\{result="completed"\} 1/);
    } finally {
      await job.stop();
    }
  });

  test('a round still running is not started twice', async () => {
    const optix = await createOptix(loadConfig({ JWT_SECRET, LOG_LEVEL: 'silent' }));
    after(() => optix.close());
    const job = startCleanupJob({ optix, logger: capture().logger, intervalSeconds: 3600 });
    const [a, b] = await Promise.all([job.runOnce(), job.runOnce()]);
    assert.equal(a.status, 'completed');
    assert.deepEqual(b, { status: 'skipped', reason: 'still_running' });
    await job.stop();
  });

  test('two instances on one Redis: one sweeps per interval, the other skips', async () => {
    const env = {
      REDIS_URL: await getTestRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
      JWT_SECRET,
      LOG_LEVEL: 'silent',
    };
    const a = await createOptix(loadConfig(env));
    const b = await createOptix(loadConfig(env));
    after(async () => {
      await a.close();
      await b.close();
    });
    const logA = capture();
    const logB = capture();
    const jobA = startCleanupJob({ optix: a, logger: logA.logger, intervalSeconds: 3 });
    const jobB = startCleanupJob({ optix: b, logger: logB.logger, intervalSeconds: 3 });
    try {
      const [ra, rb] = await Promise.all([jobA.runOnce(), jobB.runOnce()]);
      const statuses = [ra.status, rb.status].sort();
      assert.deepEqual(statuses, ['completed', 'skipped'], JSON.stringify([ra, rb]));
      const skipped = ra.status === 'skipped' ? ra : rb;
      assert.deepEqual(skipped, { status: 'skipped', reason: 'another_instance' });
      // Within the interval nobody sweeps again…
      assert.equal((await jobA.runOnce()).status, 'skipped');
      assert.equal((await jobB.runOnce()).status, 'skipped');
      // …and after it (interval − 2 s = 1 s here), one of them does.
      await new Promise((r) => setTimeout(r, 1100));
      const next = await Promise.all([jobA.runOnce(), jobB.runOnce()]);
      assert.deepEqual(next.map((o) => o.status).sort(), ['completed', 'skipped']);
      const completedLogs = [...logA.lines, ...logB.lines].filter((l) => l.msg === 'cleanup_completed');
      assert.equal(completedLogs.length, 2);
    } finally {
      await jobA.stop();
      await jobB.stop();
    }
  });
});
