/** Typed wrapper of `session_prune.lua` (see its header). */
import { replyNumber } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The number of members removed from the user index. */
export async function sessionPrune(
  run: ScriptRunner,
  input: {
    readonly userIndexKey: string;
    readonly now: number;
    /** The members to look at (same slot), each with its record's key. */
    readonly members: ReadonlyArray<{ readonly sessionId: string; readonly key: string }>;
  },
): Promise<number> {
  return replyNumber(
    await run(
      SCRIPTS.session_prune,
      [input.userIndexKey, ...input.members.map((m) => m.key)],
      [String(input.now), ...input.members.map((m) => m.sessionId)],
    ),
    'session_prune',
  );
}
