/** Typed wrapper of `session_delete.lua` (see its header). */
import { replyArray, replyNumber, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The record and its user-index score as they were before the delete (`null`: there was none). */
export interface SessionDeleteReply {
  readonly record: string | null;
  readonly indexScore: number | null;
}

export async function sessionDelete(
  run: ScriptRunner,
  input: { readonly recordKey: string; readonly userIndexKey: string; readonly sessionId: string },
): Promise<SessionDeleteReply> {
  const [record, score] = replyArray(
    await run(SCRIPTS.session_delete, [input.recordKey, input.userIndexKey], [input.sessionId]),
    'session_delete',
  );
  return {
    record: replyString(record),
    indexScore: score === null || score === undefined ? null : replyNumber(score, 'session_delete'),
  };
}
