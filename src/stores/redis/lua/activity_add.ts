/** Typed wrapper of `activity_add.lua` (see its header). */
import { arg } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** Adds each `delta` to its counter and gives every counter the retention as its TTL. */
export async function activityAdd(
  run: ScriptRunner,
  input: {
    /** Retention of the counters (ms, > 0). */
    readonly retentionMs: number;
    /** The minute's counters (one hash tag) and what to add to each (whole numbers). */
    readonly counters: ReadonlyArray<{ readonly key: string; readonly delta: number }>;
  },
): Promise<void> {
  await run(
    SCRIPTS.activity_add,
    input.counters.map((c) => c.key),
    [arg(input.retentionMs), ...input.counters.map((c) => arg(c.delta))],
  );
}
