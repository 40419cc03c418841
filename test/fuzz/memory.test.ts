/**
 * The seeded fuzz test on the in-memory backend (see cases.ts for what every case checks).
 * FUZZ_SEED and FUZZ_RUNS override the fixed seed and the number of cases; `npm run fuzz` runs
 * ≥ 100 000 cases.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ROUTES, routeKey, unmodelledRoutes } from './routes.js';
import { assertCoverage } from './coverage.js';
import { fuzzSettings, runFuzz } from './runner.js';
import { buildWorld } from './world.js';

const { seed, runs } = fuzzSettings({ seed: 20_261_126, runs: 4000 });

describe('fuzz (memory)', () => {
  test('every route the app serves has a fuzz model, and every model a route', async () => {
    const world = await buildWorld({ backend: 'memory' });
    after(() => world.close());
    const routes = world.app.routeTable;
    assert.ok(routes.length >= ROUTES.length, 'the app lists its routes');
    assert.deepEqual(unmodelledRoutes(routes), [], 'routes the fuzzer does not know: add them to ROUTES');
    const served = new Set(routes.map((r) => routeKey(r.method, r.url)));
    assert.deepEqual(
      ROUTES.map((r) => routeKey(r.method, r.url)).filter((k) => !served.has(k)),
      [],
      'fuzz models of routes the app no longer serves',
    );
  });

  test(`${runs} hostile cases (seed ${seed}): no crash, no 5xx, nothing forged or revoked accepted, catalog codes`, async (t) => {
    t.diagnostic(`fuzz seed=${seed} runs=${runs} (override with FUZZ_SEED, FUZZ_RUNS)`);
    const result = await runFuzz({
      backend: 'memory',
      seed,
      runs,
      batchSize: 2000,
      log: (line) => t.diagnostic(line),
    });
    t.diagnostic(
      `${result.stats.cases} cases, ${result.stats.actions} actions, ` +
        `${(result.stats.logBytes / 1e6).toFixed(1)} MB of logs checked, ${(result.durationMs / 1000).toFixed(1)} s`,
    );
    for (const line of result.stats.summary().split('\n')) t.diagnostic(line);
    assert.deepEqual(
      result.failures.map((f) => `batch ${f.batch} (FUZZ_SEED=${f.seed}): ${f.message}`),
      [],
    );
    assert.equal(result.unhandledRejections, 0, 'unhandled rejections');
    if (runs >= 2000) assertCoverage(result.stats);
  });
});
