/** Typed wrapper of `session_rotate.lua` (see its header). */
import { replyNumber } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export type SessionRotateStatus = 'moved' | 'not_live' | 'changed' | 'id_in_use';

const STATUS: Record<number, SessionRotateStatus> = {
  1: 'moved',
  0: 'not_live',
  [-1]: 'changed',
  [-2]: 'id_in_use',
};

export async function sessionRotate(
  run: ScriptRunner,
  input: {
    readonly oldRecordKey: string;
    readonly newRecordKey: string;
    readonly userIndexKey: string;
    readonly now: number;
    readonly oldSessionId: string;
    readonly newSessionId: string;
    /** The old record as the caller read it (compare-and-set), and the record for the new id. */
    readonly oldRecord: string;
    readonly newRecord: string;
  },
): Promise<SessionRotateStatus> {
  const code = replyNumber(
    await run(
      SCRIPTS.session_rotate,
      [input.oldRecordKey, input.newRecordKey, input.userIndexKey],
      [String(input.now), input.oldSessionId, input.newSessionId, input.oldRecord, input.newRecord],
    ),
    'session_rotate',
  );
  const status = STATUS[code];
  if (status === undefined) throw new Error(`session_rotate: unexpected status ${code}`);
  return status;
}
