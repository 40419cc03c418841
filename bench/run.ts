/**
 * `npm run bench [-- <scenario>...] [--quick] [--rounds N] [--duration MS] ...`
 *
 * Runs the benchmark scenarios (all of them without a name) against a redis-server it spawns on a
 * spare port, prints a table per scenario and writes `bench/results/<scenario>.json`.
 * See docs/performance.md.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { scenario as createSession } from './scenarios/create-session.js';
import { scenario as httpIntrospect } from './scenarios/http-introspect.js';
import { scenario as middleware } from './scenarios/middleware.js';
import { scenario as refreshRotation } from './scenarios/refresh-rotation.js';
import { scenario as revocationPropagation } from './scenarios/revocation-propagation.js';
import { scenario as revokeAll } from './scenarios/revoke-all.js';
import { scenario as validateSession } from './scenarios/validate-session.js';
import { scenario as verifyFirstSight } from './scenarios/verify-first-sight.js';
import { scenario as verifyWarm } from './scenarios/verify-warm.js';
import { startBenchRedis } from './support/redis.js';
import { printReport, writeReport } from './support/report.js';
import type { Scenario, Settings } from './support/scenario.js';

const SCENARIOS: readonly Scenario[] = [
  verifyWarm,
  verifyFirstSight,
  validateSession,
  createSession,
  refreshRotation,
  revokeAll,
  httpIntrospect,
  middleware,
  revocationPropagation,
];

const DEFAULTS: Settings = {
  rounds: 5,
  durationMs: 1200,
  warmupMs: 1000,
  concurrency: 64,
  freshOps: 20_000,
  httpRounds: 6,
  httpDurationMs: 2000,
  httpWarmupMs: 1000,
  httpConnections: 64,
  httpLoad: 'auto',
  propagationSamples: 2000,
};

/** `--quick`: a smoke run (seconds, not minutes); its numbers are not worth keeping. */
const QUICK: Partial<Settings> = {
  rounds: 2,
  durationMs: 300,
  warmupMs: 200,
  freshOps: 3000,
  httpRounds: 1,
  httpDurationMs: 1000,
  httpWarmupMs: 500,
  propagationSamples: 200,
};

/** The settings given as positive integers on the command line. */
type NumericSetting = { [K in keyof Settings]: Settings[K] extends number ? K : never }[keyof Settings];

const FLAGS: Record<string, NumericSetting> = {
  '--rounds': 'rounds',
  '--duration': 'durationMs',
  '--warmup': 'warmupMs',
  '--concurrency': 'concurrency',
  '--fresh-ops': 'freshOps',
  '--http-rounds': 'httpRounds',
  '--http-duration': 'httpDurationMs',
  '--http-warmup': 'httpWarmupMs',
  '--http-connections': 'httpConnections',
  '--samples': 'propagationSamples',
};

const USAGE = `usage: npm run bench [-- [scenario...] [options]]
scenarios: ${SCENARIOS.map((s) => [s.name, ...(s.aliases ?? [])].join('|')).join(', ')}
options:   --quick (smoke run, writes nothing unless --out is given)  --out DIR  --no-write
           --http-load auto|wrk|autocannon (default auto: wrk when installed)
           ${Object.keys(FLAGS).join(' N  ')} N`;

function parseArgs(argv: readonly string[]) {
  const names: string[] = [];
  const overrides: Partial<Settings> = {};
  let quick = false;
  let out: string | null = null;
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') ? (arg.split('=', 2) as [string, string?]) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--quick') quick = true;
    else if (flag === '--no-write') write = false;
    else if (flag === '--out') out = value();
    else if (flag === '--http-load') {
      const v = value();
      if (v !== 'auto' && v !== 'wrk' && v !== 'autocannon')
        throw new Error(`--http-load must be auto, wrk or autocannon\n${USAGE}`);
      overrides.httpLoad = v;
    } else if (flag in FLAGS) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
      overrides[FLAGS[flag]!] = n;
    } else if (flag.startsWith('-')) throw new Error(`unknown option ${flag}\n${USAGE}`);
    else names.push(flag);
  }
  const settings: Settings = { ...DEFAULTS, ...(quick ? QUICK : {}), ...overrides };
  const selected =
    names.length === 0
      ? SCENARIOS
      : names.map((name) => {
          const s = SCENARIOS.find((c) => c.name === name || c.aliases?.includes(name));
          if (!s) throw new Error(`unknown scenario "${name}"\n${USAGE}`);
          return s;
        });
  const outDir = out ?? (quick || !write ? null : fileURLToPath(new URL('./results/', import.meta.url)));
  return { settings, selected: [...new Set(selected)], outDir: write ? outDir : null };
}

async function main(): Promise<void> {
  const { settings, selected, outDir } = parseArgs(process.argv.slice(2));
  const log = (line: string) => console.log(line);
  const redis = await startBenchRedis(log);
  log(`settings: ${JSON.stringify(settings)}`);
  const summary: string[] = [];
  const started = Date.now();
  try {
    for (const scenario of selected) {
      log('');
      log(`== ${scenario.name}: ${scenario.title}`);
      await redis.command('FLUSHALL');
      const t0 = Date.now();
      const loadAverageAtStart = os.loadavg();
      if (loadAverageAtStart[0]! > os.cpus().length * 0.5) {
        log(
          `  warning: load average ${loadAverageAtStart[0]!.toFixed(2)} before the start: other work skews the numbers`,
        );
      }
      const report = await scenario.run({ redis, settings, log });
      printReport(report, log);
      if (outDir !== null) {
        const file = writeReport(outDir, report, {
          redisVersion: redis.version,
          redisPort: redis.port,
          loadAverageAtStart,
        });
        log(`  wrote ${file}`);
      }
      log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      for (const q of report.ratios) {
        if (q.target) {
          summary.push(
            `${scenario.name.padEnd(20)} ${q.label.padEnd(46)} ${q.target.met ? 'PASS' : 'FAIL'}  ${q.target.verdict}${q.target.informational ? ' (informational)' : ''}`,
          );
        }
      }
      for (const c of report.checks ?? []) {
        summary.push(
          `${scenario.name.padEnd(20)} ${c.label.padEnd(46)} ${c.met ? 'PASS' : 'FAIL'}  ${c.verdict}`,
        );
      }
    }
  } finally {
    await redis.stop();
  }
  log('');
  log(`targets (${((Date.now() - started) / 1000).toFixed(0)} s in all):`);
  for (const line of summary) log(`  ${line}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
