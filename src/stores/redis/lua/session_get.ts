/** Typed wrapper of `session_get.lua` (see its header). */
import { replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface SessionGetInput {
  readonly recordKey: string;
  readonly userIndexKey: string;
  readonly now: number;
  readonly sessionId: string;
}

/** The stored record if the index scores the session live at `now`, else `null` (the caller checks the record's own expiry). */
export async function sessionGet(run: ScriptRunner, input: SessionGetInput): Promise<string | null> {
  return replyString(
    await run(
      SCRIPTS.session_get,
      [input.recordKey, input.userIndexKey],
      [String(input.now), input.sessionId],
    ),
  );
}
