/** Typed wrapper of `session_sweep_check.lua` (see its header). */
import { replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/**
 * The stored record if the index scores the session live at `now` (the caller checks the record's
 * own expiry), else `null`, and the id is noted in the user's swept set for `noteMs`.
 */
export async function sessionSweepCheck(
  run: ScriptRunner,
  input: {
    readonly recordKey: string;
    readonly userIndexKey: string;
    readonly sweptKey: string;
    readonly now: number;
    readonly sessionId: string;
    readonly noteMs: number;
  },
): Promise<string | null> {
  return replyString(
    await run(
      SCRIPTS.session_sweep_check,
      [input.recordKey, input.userIndexKey, input.sweptKey],
      [String(input.now), input.sessionId, String(input.noteMs)],
    ),
  );
}
