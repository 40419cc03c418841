/** Typed wrapper of `session_delete_all.lua` (see its header). */
import { replyArray, replyNumber, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface SessionDeleteAllReply {
  /** Every member removed from the user index, with its score (ms). */
  readonly removed: Array<{ sessionId: string; score: number }>;
  /** The declared records deleted here: `[sessionId, record or null]`. */
  readonly records: Array<[sessionId: string, record: string | null]>;
}

export async function sessionDeleteAll(
  run: ScriptRunner,
  input: {
    readonly userIndexKey: string;
    readonly now: number;
    /** The session that stays (`null`: none). */
    readonly keepSessionId: string | null;
    /** Records the caller read from the index (same slot), each with its key. */
    readonly declared: ReadonlyArray<{ readonly sessionId: string; readonly key: string }>;
  },
): Promise<SessionDeleteAllReply> {
  const [removedReply, recordsReply] = replyArray(
    await run(
      SCRIPTS.session_delete_all,
      [input.userIndexKey, ...input.declared.map((d) => d.key)],
      [String(input.now), input.keepSessionId ?? '', ...input.declared.map((d) => d.sessionId)],
    ),
    'session_delete_all',
  );
  const removed: SessionDeleteAllReply['removed'] = [];
  const removedPairs = replyArray(removedReply, 'session_delete_all');
  for (let i = 0; i < removedPairs.length; i += 2) {
    removed.push({
      sessionId: replyString(removedPairs[i]) ?? '',
      score: replyNumber(removedPairs[i + 1], 'session_delete_all'),
    });
  }
  const records: SessionDeleteAllReply['records'] = [];
  const recordPairs = replyArray(recordsReply, 'session_delete_all');
  for (let i = 0; i < recordPairs.length; i += 2) {
    records.push([replyString(recordPairs[i]) ?? '', replyString(recordPairs[i + 1])]);
  }
  return { removed, records };
}
