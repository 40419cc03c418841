/** What a scenario module exports, and what it is given. */
import type { ScenarioReport } from './report.js';
import type { BenchRedisServer } from './redis.js';

export interface Settings {
  /** Rounds per library scenario (each contender once per round). */
  rounds: number;
  /** Length of one contender's run in a round (ms). */
  durationMs: number;
  /** Warm-up of each contender before the rounds (ms). */
  warmupMs: number;
  /** Operations in flight at once (library scenarios). */
  concurrency: number;
  /** Operations per contender per round where each needs fresh data (verify-first-sight, revoke-all). */
  freshOps: number;
  /** HTTP: rounds, run length, warm-up (ms) and autocannon connections. */
  httpRounds: number;
  httpDurationMs: number;
  httpWarmupMs: number;
  httpConnections: number;
  /** revocation-propagation: samples per condition (idle, loaded). */
  propagationSamples: number;
  /** HTTP load generator: wrk when installed, else autocannon (`auto`), or one of them. */
  httpLoad: 'auto' | 'wrk' | 'autocannon';
}

export interface ScenarioContext {
  redis: BenchRedisServer;
  settings: Settings;
  log: (line: string) => void;
}

export interface Scenario {
  /** File name of the results (`bench/results/<name>.json`) and the argument of `npm run bench -- <name>`. */
  name: string;
  /** Other names accepted on the command line. */
  aliases?: readonly string[];
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioReport>;
}
