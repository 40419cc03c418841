/**
 * `npx tsx bench/propagation.ts [--samples N] [--loaded | --both] [--write | --out DIR] ...`
 *
 * Cross-instance revocation latency across two processes (issue 17: p99 ≤ 5 ms): instance A here,
 * instance B in a child process, on a redis-server of its own on a spare port (never 6379). See
 * bench/support/propagation.ts for the method. Without `--loaded` B is idle; `--loaded` puts B
 * under a steady load of warm verifications and A under a login storm; `--both` runs both.
 * `--mode event`: B sleeps between pushes instead of spinning (see PollMode); `--mode both`
 * runs each condition both ways. Default: immediate (B polls once per turn of its loop).
 * `--b-node-options '…'`: node options of B's process (GC experiments).
 * `--b-nice N`: B's scheduling priority (diagnostic: how much of the delay is waiting for a CPU).
 * `--write` writes bench/results/revocation-propagation.json (what `npm run bench --
 * revocation-propagation` writes too); `--out DIR` writes there instead.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startBenchRedis } from './support/redis.js';
import {
  type Condition,
  type PropagationSettings,
  DEFAULT_PROPAGATION,
  measurePropagation,
  printPropagation,
} from './support/propagation.js';
import { propagationReport } from './support/propagation-report.js';
import { writeReport } from './support/report.js';

const USAGE = `usage: npx tsx bench/propagation.ts [--samples N] [--loaded | --both] [--load-rate N] [--load-users N]
                                     [--storm N] [--timeout MS] [--mode immediate|event|both]
                                     [--b-node-options '--single-threaded-gc …'] [--b-nice N]
                                     [--write | --out DIR]`;

function parseArgs(argv: readonly string[]) {
  const settings: PropagationSettings = { ...DEFAULT_PROPAGATION, modes: ['immediate'] };
  let conditions: Condition[] = ['idle'];
  let outDir: string | null = null;
  const ints: Record<string, 'samples' | 'loadRatePerSec' | 'loadUsers' | 'stormConcurrency' | 'timeoutMs'> =
    {
      '--samples': 'samples',
      '--load-rate': 'loadRatePerSec',
      '--load-users': 'loadUsers',
      '--storm': 'stormConcurrency',
      '--timeout': 'timeoutMs',
    };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string?];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--loaded') conditions = ['loaded'];
    else if (flag === '--both') conditions = ['idle', 'loaded'];
    else if (flag === '--mode') {
      const v = value();
      if (v !== 'immediate' && v !== 'event' && v !== 'both')
        throw new Error(`--mode must be immediate, event or both\n${USAGE}`);
      settings.modes = v === 'both' ? ['immediate', 'event'] : [v];
    } else if (flag === '--b-node-options') settings.bNodeOptions = value().split(' ').filter(Boolean);
    else if (flag === '--b-nice') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < -20 || n > 19)
        throw new Error('--b-nice must be an integer in -20..19');
      settings.bNice = n;
    } else if (flag === '--write') outDir = fileURLToPath(new URL('./results/', import.meta.url));
    else if (flag === '--out') outDir = value();
    else if (flag in ints) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < (flag === '--load-rate' ? 0 : 1))
        throw new Error(`${flag} must be a positive integer`);
      settings[ints[flag]!] = n;
    } else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return { settings, conditions, outDir };
}

async function main(): Promise<void> {
  const { settings, conditions, outDir } = parseArgs(process.argv.slice(2));
  const log = (line: string) => console.log(line);
  const redis = await startBenchRedis(log);
  log(`settings: ${JSON.stringify({ ...settings, conditions })}`);
  const loadAverageAtStart = os.loadavg();
  try {
    const results = await measurePropagation({
      redisUrl: redis.url,
      redisPid: redis.pid,
      conditions,
      settings,
      log,
      redisCommand: (line) => redis.command(line),
    });
    printPropagation(results, log);
    if (outDir !== null) {
      const file = writeReport(outDir, propagationReport(results, settings), {
        redisVersion: redis.version,
        redisPort: redis.port,
        loadAverageAtStart,
      });
      log(`wrote ${file}`);
    }
  } finally {
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
