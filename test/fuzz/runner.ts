/**
 * Runs fuzz cases in batches, each batch on a fresh world (memory or Redis) with its own seed
 * (`seed + batch index`), so a failure is reproduced with `--seed <that batch's seed>`. Used by the
 * test files (a few thousand cases) and by `scripts/fuzz.ts` (`npm run fuzz`, ≥ 100 000).
 */
import fc from 'fast-check';
import { checkDeadPool, runCase } from './cases.js';
import { caseArb } from './recipes.js';
import { FuzzStats } from './stats.js';
import { buildWorld, type World, type WorldOptions } from './world.js';

export interface FuzzOptions extends WorldOptions {
  seed: number;
  runs: number;
  /** Cases per world (default: all in one). */
  batchSize?: number;
  /** Stop at the first failing batch (default true). */
  stopOnFailure?: boolean;
  /** Progress and failure reports. */
  log?: (line: string) => void;
}

export interface BatchFailure {
  batch: number;
  seed: number;
  message: string;
}

export interface FuzzResult {
  seed: number;
  runs: number;
  batches: number;
  durationMs: number;
  stats: FuzzStats;
  failures: BatchFailure[];
  unhandledRejections: number;
}

/** Seed and run count from the environment (FUZZ_SEED, FUZZ_RUNS), else the defaults. */
export function fuzzSettings(defaults: { seed: number; runs: number }): { seed: number; runs: number } {
  const int = (name: string, fallback: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  return { seed: int('FUZZ_SEED', defaults.seed), runs: int('FUZZ_RUNS', defaults.runs) };
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const batchSize = Math.max(1, options.batchSize ?? options.runs);
  const stats = new FuzzStats();
  const failures: BatchFailure[] = [];
  let unhandled = 0;
  const onUnhandled = (reason: unknown) => {
    unhandled++;
    log(`UNHANDLED REJECTION: ${String((reason as Error)?.stack ?? reason)}`);
  };
  process.on('unhandledRejection', onUnhandled);
  let batches = 0;
  try {
    for (let done = 0; done < options.runs; done += batchSize) {
      const numRuns = Math.min(batchSize, options.runs - done);
      const seed = options.seed + batches;
      const batch = batches++;
      const world: World = await buildWorld(options);
      const batchStats = new FuzzStats();
      const t0 = performance.now();
      try {
        await fc.assert(
          fc.asyncProperty(
            caseArb(() => world.keys),
            (recipe) => runCase(world, recipe, batchStats),
          ),
          { seed, numRuns },
        );
        await checkDeadPool(world);
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        const message =
          (err instanceof Error ? err.message : String(err)) +
          (cause instanceof Error ? `\nCause: ${cause.message}` : '');
        failures.push({ batch, seed, message });
        log(`batch ${batch} (seed ${seed}) FAILED:\n${message}`);
        if (options.stopOnFailure ?? true) break;
      } finally {
        await world.close();
        stats.merge(batchStats);
        log(
          `batch ${batch}: seed ${seed}, ${numRuns} cases, ${batchStats.actions} actions in ` +
            `${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return {
    seed: options.seed,
    runs: options.runs,
    batches,
    durationMs: performance.now() - started,
    stats,
    failures,
    unhandledRejections: unhandled,
  };
}
