/**
 * Results: ratios between contenders, targets, the printed table and `bench/results/<scenario>.json`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ContenderResult, fmt, median, round } from './measure.js';
import { packageVersion } from './peers.js';

export interface RatioSpec {
  id: string;
  /** `ours / bare verify` */
  label: string;
  numerator: string;
  denominator: string;
  /** A target (issue 6 or 17); `informational` targets are shown but do not decide pass/fail. */
  target?: { min: number; informational?: boolean; note?: string };
}

export interface RatioResult {
  id: string;
  label: string;
  numerator: string;
  denominator: string;
  /** ops/s of numerator ÷ ops/s of denominator, per round (both measured in the same round). */
  rounds: number[];
  /** Median of the per-round ratios. */
  median: number;
  /**
   * How steady the machine was: the denominator's highest ops/s over its lowest across the rounds
   * (the same code under the same load; on a quiet machine close to 1).
   */
  denominatorSpread: number;
  /** The denominator's ops/s varied by more than NOISY_SPREAD across the rounds: do not trust the verdict. */
  noisy: boolean;
  target: null | {
    min: number;
    informational: boolean;
    met: boolean;
    /** e.g. "missed: 0.41× against ≥ 0.65× (37% short)" */
    verdict: string;
    note?: string;
  };
}

/**
 * Above this spread of the denominator's ops/s the run is called noisy. On the shared 2-core VMs of
 * 2026-11 the machine's speed changed by up to 1.6× from one second to the next, and such runs
 * put HTTP introspection at 0.62–0.75× of the hello-world where a quiet run measured 0.39×.
 */
export const NOISY_SPREAD = 1.25;

export function ratios(results: readonly ContenderResult[], specs: readonly RatioSpec[]): RatioResult[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  return specs.map((spec) => {
    const a = byId.get(spec.numerator);
    const b = byId.get(spec.denominator);
    if (!a || !b) throw new Error(`ratio ${spec.id}: unknown contender`);
    const perRound = a.rounds.map((s, i) => round(s.opsPerSec / b.rounds[i]!.opsPerSec, 3));
    const m = round(median(perRound), 3);
    const peerOps = b.rounds.map((r) => r.opsPerSec);
    const denominatorSpread = round(Math.max(...peerOps) / Math.max(1, Math.min(...peerOps)), 2);
    const noisy = denominatorSpread > NOISY_SPREAD;
    let target: RatioResult['target'] = null;
    if (spec.target) {
      const met = m >= spec.target.min;
      const verdict =
        (met
          ? `met: ${m.toFixed(2)}× against ≥ ${spec.target.min}×`
          : `missed: ${m.toFixed(2)}× against ≥ ${spec.target.min}× (${Math.round((1 - m / spec.target.min) * 100)}% short)`) +
        (noisy
          ? `; NOISY RUN: ${b.label} varied ${denominatorSpread}× across the rounds, the verdict is not settled`
          : '');
      target = {
        min: spec.target.min,
        informational: spec.target.informational ?? false,
        met,
        verdict,
        ...(spec.target.note ? { note: spec.target.note } : {}),
      };
    }
    return {
      id: spec.id,
      label: spec.label,
      numerator: spec.numerator,
      denominator: spec.denominator,
      rounds: perRound,
      median: m,
      denominatorSpread,
      noisy,
      target,
    };
  });
}

export interface ScenarioReport {
  scenario: string;
  title: string;
  /** What is measured, in a sentence or two. */
  measures: string;
  settings: Record<string, unknown>;
  results: ContenderResult[];
  ratios: RatioResult[];
  /** Goals that are not a ratio of throughputs (e.g. a latency bound); counted in `pass` like the targets. */
  checks?: Check[];
  /** What a latency scenario measured (its own shape, written as is under this name). */
  latency?: unknown;
  notes: string[];
}

export interface Check {
  /** `revoke seen by another instance, p99 (idle)` */
  label: string;
  met: boolean;
  /** e.g. "met: p99 0.41 ms against ≤ 5 ms" */
  verdict: string;
}

export interface RunInfo {
  redisVersion: string;
  redisPort: number;
  /** os.loadavg() when the scenario started (other work on the machine skews the numbers). */
  loadAverageAtStart: number[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** What the results depend on: machine, runtime, Redis, the code measured and the peers' versions. */
export function environment(run: RunInfo) {
  const cpus = os.cpus();
  const dirty = git(['status', '--porcelain', '--', 'src']);
  return {
    date: new Date().toISOString(),
    machine: {
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      /** 1, 5 and 15 min load averages when the scenario started and when it ended. */
      loadAverageAtStart: run.loadAverageAtStart.map((v) => round(v, 2)),
      loadAverageAtEnd: os.loadavg().map((v) => round(v, 2)),
    },
    node: process.version,
    redis: { version: run.redisVersion, port: run.redisPort, spawnedBy: 'bench (persistence off)' },
    code: {
      commit: git(['rev-parse', 'HEAD']),
      /** src/ files that differed from the commit while measuring (empty: the commit itself). */
      uncommittedSrc: dirty === '' || dirty === 'unknown' ? [] : dirty.split('\n'),
    },
    packages: Object.fromEntries(
      [
        '@redis/client',
        'fastify',
        'fast-jwt',
        'jsonwebtoken',
        'ioredis',
        'connect-redis',
        'connect-redis-10',
        'express-session',
        'redis',
        'autocannon',
      ].map((p) => [p, packageVersion(p)]),
    ),
  };
}

export function printReport(report: ScenarioReport, log: (line: string) => void): void {
  log('');
  log(`${report.scenario} — ${report.title}`);
  log(`  ${report.measures}`);
  log(`  settings: ${JSON.stringify(report.settings)}`);
  if (report.results.length > 0) printResults(report, log);
  for (const c of report.checks ?? []) log(`  check ${c.label}: ${c.met ? 'PASS' : 'FAIL'}  ${c.verdict}`);
  for (const n of report.notes) log(`  note: ${n}`);
}

function printResults(report: ScenarioReport, log: (line: string) => void): void {
  const head = `  ${'side'.padEnd(64)} ${'ops/s'.padStart(10)} ${'p50 µs'.padStart(10)} ${'p99 µs'.padStart(10)}`;
  log(head);
  log(`  ${'-'.repeat(head.length - 2)}`);
  for (const r of report.results) {
    log(
      `  ${`${r.label} [${r.role}]`.padEnd(64)} ${fmt(r.median.opsPerSec).padStart(10)} ${String(r.median.p50Us).padStart(10)} ${String(r.median.p99Us).padStart(10)}`,
    );
  }
  for (const q of report.ratios) {
    const t = q.target
      ? `  target ≥ ${q.target.min}×${q.target.informational ? ' (informational)' : ''}: ${q.target.met ? 'PASS' : 'FAIL'}`
      : '';
    const range = `[${Math.min(...q.rounds).toFixed(2)}–${Math.max(...q.rounds).toFixed(2)}]`;
    const noisy = q.noisy ? `  NOISY (peer varied ${q.denominatorSpread}×)` : '';
    log(
      `  ratio ${q.label.padEnd(58)} ${`${q.median.toFixed(2)}×`.padStart(10)} ${range.padStart(13)}${t}${noisy}`,
    );
  }
}

/** Lays the file out as `biome format` would, so `biome check bench` stays clean after a run. */
function formatWithBiome(file: string): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  try {
    execFileSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', file], {
      cwd: root,
      stdio: 'ignore',
    });
  } catch {
    // Not fatal: the numbers are written; `npx biome format --write bench` lays them out later.
  }
}

export function writeReport(dir: string, report: ScenarioReport, run: RunInfo): string {
  const targets = report.ratios.filter((q) => q.target !== null);
  const decisive = targets.filter((q) => !q.target!.informational);
  const checks = report.checks ?? [];
  const body = {
    scenario: report.scenario,
    title: report.title,
    measures: report.measures,
    ...environment(run),
    settings: report.settings,
    results: report.results,
    ratios: report.ratios,
    targets: targets.map((q) => ({
      ratio: q.label,
      min: q.target!.min,
      value: q.median,
      met: q.target!.met,
      informational: q.target!.informational,
      verdict: q.target!.verdict,
    })),
    ...(checks.length > 0 ? { checks } : {}),
    pass:
      decisive.length + checks.length === 0
        ? null
        : decisive.every((q) => q.target!.met) && checks.every((c) => c.met),
    ...(report.latency === undefined ? {} : { latency: report.latency }),
    notes: report.notes,
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.scenario}.json`);
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  formatWithBiome(file);
  return file;
}
