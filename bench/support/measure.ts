/**
 * The measuring loop: a closed loop with a fixed number of operations in flight (the concurrency),
 * for a fixed duration or a fixed number of operations, each operation timed into an HDR histogram
 * (`perf_hooks.createHistogram`, ns). Latency is the closed-loop latency at that concurrency
 * (queueing in the client and in Redis included).
 *
 * Sides are measured in rounds, alternating their order (forward, then backward), so that machine
 * noise and warm caches do not favour one side; each figure reported is the median of the rounds,
 * and each ratio the median of the per-round ratios.
 */
import { createHistogram, performance } from 'node:perf_hooks';
import type { Settings } from './scenario.js';

export interface Load {
  /** Operations in flight at once. */
  concurrency: number;
  /** Run for this long (ms)... */
  durationMs?: number;
  /** ...or this many operations (the first limit reached ends the run). */
  ops?: number;
}

/** One operation; `i` counts the operations of this run (0, 1, ...), `worker` is 0..concurrency-1. */
export type Op = (i: number, worker: number) => unknown;

export interface Sample {
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

/** Runs `op` under `load`; throws the first error an operation threw (a failing run measures nothing). */
export async function measure(op: Op, load: Load): Promise<Sample> {
  const histogram = createHistogram({ lowest: 1, highest: 120_000_000_000, figures: 3 });
  const total = load.ops ?? Number.POSITIVE_INFINITY;
  if (load.durationMs === undefined && load.ops === undefined) throw new Error('measure: no limit given');
  let next = 0;
  let failure: { error: unknown } | null = null;
  const start = performance.now();
  const end = load.durationMs === undefined ? Number.POSITIVE_INFINITY : start + load.durationMs;
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      if (failure !== null || next >= total) return;
      const t0 = performance.now();
      if (t0 >= end) return;
      const i = next++;
      try {
        const result = op(i, w);
        // A synchronous op stays synchronous: no await, no microtask (that is its real cost).
        if (result instanceof Promise) await result;
      } catch (error) {
        failure ??= { error };
        return;
      }
      histogram.record(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - start;
  if (failure !== null) throw (failure as { error: unknown }).error;
  const ops = histogram.count;
  return {
    ops,
    elapsedMs: round(elapsedMs, 1),
    opsPerSec: Math.round((ops * 1000) / elapsedMs),
    p50Us: round(histogram.percentile(50) / 1000, 1),
    p99Us: round(histogram.percentile(99) / 1000, 1),
    meanUs: round(histogram.mean / 1000, 1),
    maxUs: round(histogram.max / 1000, 1),
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export type Role = 'ours' | 'cpu-limit' | 'peer' | 'reference';

/** One side of a comparison. */
export interface Contender {
  id: string;
  label: string;
  role: Role;
  op: Op;
  /** Operations in flight for this contender, when not the scenario's concurrency. */
  concurrency?: number;
  /** Called (untimed) before each of this contender's runs, warm-up included. */
  before?: (phase: Phase) => Promise<void> | void;
}

export type Phase = { kind: 'warmup' } | { kind: 'round'; round: number };

export interface ContenderResult {
  id: string;
  label: string;
  role: Role;
  rounds: Sample[];
  /** Medians over the rounds. */
  median: { opsPerSec: number; p50Us: number; p99Us: number; meanUs: number };
}

export interface CompareOptions {
  rounds: number;
  load: Load;
  warmup: Load;
  /** Called (untimed) before each round, before any contender runs (fresh data for the round...). */
  beforeRound?: (round: number) => Promise<void>;
  log: (line: string) => void;
}

/**
 * Warms every contender up once, then runs `rounds` rounds; round r runs the contenders forward
 * when r is even and backward when r is odd.
 */
export async function compare(contenders: readonly Contender[], options: CompareOptions) {
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.id, []]));
  for (const c of contenders) {
    await c.before?.({ kind: 'warmup' });
    const s = await measure(c.op, withConcurrency(options.warmup, c));
    options.log(`  warm-up  ${c.label.padEnd(60)} ${fmt(s.opsPerSec).padStart(10)} ops/s`);
  }
  for (let round = 0; round < options.rounds; round++) {
    await options.beforeRound?.(round);
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      await c.before?.({ kind: 'round', round });
      const s = await measure(c.op, withConcurrency(options.load, c));
      samples.get(c.id)!.push(s);
      options.log(
        `  round ${round + 1}  ${c.label.padEnd(60)} ${fmt(s.opsPerSec).padStart(10)} ops/s  p50 ${s.p50Us} µs  p99 ${s.p99Us} µs`,
      );
    }
  }
  return contenders.map((c): ContenderResult => summarize(c, samples.get(c.id)!));
}

function withConcurrency(load: Load, c: Contender): Load {
  return c.concurrency === undefined ? load : { ...load, concurrency: c.concurrency };
}

export function summarize(c: Pick<Contender, 'id' | 'label' | 'role'>, rounds: Sample[]): ContenderResult {
  return {
    id: c.id,
    label: c.label,
    role: c.role,
    rounds,
    median: {
      opsPerSec: Math.round(median(rounds.map((s) => s.opsPerSec))),
      p50Us: round(median(rounds.map((s) => s.p50Us)), 1),
      p99Us: round(median(rounds.map((s) => s.p99Us)), 1),
      meanUs: round(median(rounds.map((s) => s.meanUs)), 1),
    },
  };
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Runs `fn(i)` for i in 0..count-1 with `concurrency` in flight (setup work, untimed). */
export async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** A FIFO of fixed capacity: take the oldest item, put it back at the end once used. */
export class Ring<T> {
  readonly #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  constructor(items: readonly T[]) {
    this.#items = new Array(items.length);
    for (const item of items) this.push(item);
  }
  get size(): number {
    return this.#size;
  }
  shift(): T {
    if (this.#size === 0) throw new Error('Ring is empty: more operations in flight than items');
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }
  push(item: T): void {
    if (this.#size === this.#items.length) throw new Error('Ring is full');
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
  }
}

/**
 * `compare` with the timed runs of the settings: every contender runs `durationMs` per round at
 * `concurrency` after a `warmupMs` warm-up. Returns the load too (the report records it).
 */
export async function compareTimed(
  contenders: readonly Contender[],
  settings: Pick<Settings, 'rounds' | 'concurrency' | 'durationMs' | 'warmupMs'>,
  log: (line: string) => void,
) {
  const load = { concurrency: settings.concurrency, durationMs: settings.durationMs };
  const warmup = { concurrency: settings.concurrency, durationMs: settings.warmupMs };
  const results = await compare(contenders, { rounds: settings.rounds, load, warmup, log });
  return { load, results };
}
