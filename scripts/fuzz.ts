/**
 * `npm run fuzz`: the long fuzz run — by default 100 000 cases on the in-memory backend and 10 000
 * against a throwaway redis-server (spawned on a spare port, stopped at the end; never 6379).
 * The same cases and checks as test/fuzz (see test/fuzz/cases.ts), in batches of 5 000 per world.
 *
 *   npm run fuzz
 *   npm run fuzz -- --seed 42 --runs 200000 --redis-runs 0
 *   npm run fuzz -- --strict        # known issues of other modules fail instead of being counted
 *
 * Prints the seed, each batch (seed, cases, time), a summary per target and the failures; exits 1
 * when a batch failed. A failed batch is replayed with `--seed <its seed> --runs 5000`.
 * FUZZ_SEED / FUZZ_RUNS / FUZZ_REDIS_RUNS set the defaults too.
 */
import { parseArgs } from 'node:util';
import { KNOWN_ISSUES } from '../test/fuzz/cases.js';
import { type FuzzResult, runFuzz } from '../test/fuzz/runner.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    runs: { type: 'string' },
    'redis-runs': { type: 'string' },
    batch: { type: 'string' },
    strict: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run fuzz -- [--seed N] [--runs N] [--redis-runs N] [--batch N] [--strict]\n' +
      'Defaults: a time-based seed, 100000 memory cases, 10000 Redis cases, batches of 5000.\n',
  );
  process.exit(0);
}

function int(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`fuzz: ${name} must be a non-negative integer, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

const seed = int('--seed', values.seed ?? process.env.FUZZ_SEED, Date.now() % 2_147_483_647);
const runs = int('--runs', values.runs ?? process.env.FUZZ_RUNS, 100_000);
const redisRuns = int('--redis-runs', values['redis-runs'] ?? process.env.FUZZ_REDIS_RUNS, 10_000);
const batchSize = int('--batch', values.batch, 5000) || 5000;
if (values.strict) process.env.FUZZ_STRICT = '1';

const log = (line: string) => process.stdout.write(`${line}\n`);

function report(name: string, r: FuzzResult): void {
  log(`\n== ${name}: ${r.stats.cases} cases (${r.runs} generated + shrinking), ${r.stats.actions} actions`);
  log(r.stats.summary());
  log(
    `${name}: seed ${r.seed}, ${r.batches} batches, ${(r.durationMs / 1000).toFixed(1)} s, ` +
      `${(r.stats.logBytes / 1e6).toFixed(1)} MB of logs checked for secrets, ` +
      `${r.failures.length} failed batches, ${r.unhandledRejections} unhandled rejections`,
  );
}

log(`fuzz: seed ${seed}, ${runs} memory cases, ${redisRuns} Redis cases, batches of ${batchSize}`);
log(`known issues (counted unless --strict): ${Object.keys(KNOWN_ISSUES).join(', ')}`);
const results: Array<[string, FuzzResult]> = [];
const started = performance.now();

if (runs > 0) {
  const r = await runFuzz({ backend: 'memory', seed, runs, batchSize, stopOnFailure: false, log });
  report('memory', r);
  results.push(['memory', r]);
}
if (redisRuns > 0) {
  // Imported only here: the helper registers a node:test hook when loaded.
  const { startRedisServer } = await import('../test/helpers/redis-server.js');
  const server = await startRedisServer();
  log(`\nredis-server on ${server.url} (pid ${server.process.pid})`);
  try {
    const r = await runFuzz({
      backend: 'redis',
      redisUrl: server.url,
      seed: seed + 1_000_000,
      runs: redisRuns,
      batchSize,
      stopOnFailure: false,
      log,
    });
    report('redis', r);
    results.push(['redis', r]);
  } finally {
    await server.stop();
  }
}

const cases = results.reduce((n, [, r]) => n + r.stats.cases, 0);
const failures = results.flatMap(([name, r]) =>
  r.failures.map((f) => `${name} batch ${f.batch} (--seed ${f.seed})`),
);
const unhandled = results.reduce((n, [, r]) => n + r.unhandledRejections, 0);
log(
  `\nfuzz total: ${cases} cases in ${((performance.now() - started) / 1000).toFixed(1)} s, seed ${seed}; ` +
    `${failures.length} failed batches${failures.length ? `: ${failures.join(', ')}` : ''}; ` +
    `${unhandled} unhandled rejections`,
);
process.exitCode = failures.length > 0 || unhandled > 0 ? 1 : 0;
