/** Typed wrapper of `blacklist_set.lua` (see its header). */
import { SCRIPTS, type ScriptRunner } from './index.js';

/** `true` when the entry was written, `false` when a longer-lasting one was kept. */
export async function blacklistSet(
  run: ScriptRunner,
  input: {
    readonly entryKey: string;
    /** The entry (JSON) and its expiry (ms). */
    readonly entryJson: string;
    readonly expiresAt: number;
    readonly now: number;
    readonly ttlMs: number;
  },
): Promise<boolean> {
  const reply = await run(
    SCRIPTS.blacklist_set,
    [input.entryKey],
    [input.entryJson, String(input.expiresAt), String(input.now), String(input.ttlMs)],
  );
  return Number(reply) === 1;
}
