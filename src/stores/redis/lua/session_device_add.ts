/** Typed wrapper of `session_device_add.lua` (see its header). */
import { replyArray, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

const NOT_TRACKED: readonly string[] = [];

/**
 * Adds a session to its device index (pruning at most 500 members scored at or before `now`, the
 * index's TTL following its highest score plus `indexTtlSlackMs`) and returns up to `liveLimit`
 * of the index's live members (scored after `now`), the new session among them.
 */
export async function sessionDeviceAdd(
  run: ScriptRunner,
  input: {
    readonly deviceIndexKey: string;
    readonly now: number;
    readonly sessionId: string;
    /** The session's expiresAt (ms): its score. */
    readonly expiresAt: number;
    readonly indexTtlSlackMs: number;
    /** 0: answer none. */
    readonly liveLimit: number;
  },
): Promise<string[]> {
  const reply = await run(
    SCRIPTS.session_device_add,
    [input.deviceIndexKey],
    [
      String(input.now),
      String(input.expiresAt),
      input.sessionId,
      String(input.indexTtlSlackMs),
      String(input.liveLimit),
    ],
    // Device indexes are never read on the tracked connection: nothing to invalidate locally.
    NOT_TRACKED,
  );
  const out: string[] = [];
  for (const member of replyArray(reply, 'session_device_add')) {
    const id = replyString(member);
    if (id !== null) out.push(id);
  }
  return out;
}
