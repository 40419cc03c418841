/** Typed wrapper of `watermark_raise.lua` (see its header). */
import { SCRIPTS, type ScriptRunner } from './index.js';

export async function watermarkRaise(
  run: ScriptRunner,
  input: {
    readonly watermarkKey: string;
    readonly now: number;
    /** Legacy tokens of the user issued before this (ms) are revoked. */
    readonly beforeMs: number;
    readonly ttlMs: number;
  },
): Promise<void> {
  await run(
    SCRIPTS.watermark_raise,
    [input.watermarkKey],
    [String(input.now), String(input.beforeMs), String(input.ttlMs)],
  );
}
