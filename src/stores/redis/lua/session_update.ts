/** Typed wrapper of `session_update.lua` (see its header). */
import { replyArray, replyNumber, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface SessionUpdateInput {
  readonly recordKey: string;
  readonly userIndexKey: string;
  readonly now: number;
  readonly sessionId: string;
  /** The new encoded record (`records.ts`). */
  readonly record: string;
  /** New TTL and index score (`expiresAt`, `ttlMs`); otherwise both are kept (see the header). */
  readonly extend: boolean;
  readonly expiresAt: number;
  readonly ttlMs: number;
  readonly indexTtlSlackMs: number;
  /** Write only if the stored lastActivity (ms) is at or before this. */
  readonly ifLastActivityAtOrBefore: number | undefined;
}

export type SessionUpdateReply =
  /** The session was not live: nothing written. */
  | { status: 'gone' }
  /** Live, but its activity was written more recently than asked: nothing written. */
  | { status: 'held' }
  | { status: 'written'; previous: string | null; score: number };

export async function sessionUpdate(
  run: ScriptRunner,
  input: SessionUpdateInput,
): Promise<SessionUpdateReply> {
  const reply = await run(
    SCRIPTS.session_update,
    [input.recordKey, input.userIndexKey],
    [
      String(input.now),
      input.sessionId,
      input.record,
      input.extend ? '1' : '0',
      String(input.expiresAt),
      String(input.ttlMs),
      String(input.indexTtlSlackMs),
      input.ifLastActivityAtOrBefore === undefined ? '' : String(input.ifLastActivityAtOrBefore),
    ],
  );
  if (reply === null) return { status: 'gone' };
  const [previous, score, written] = replyArray(reply, 'session_update');
  if (written === 0) return { status: 'held' };
  return { status: 'written', previous: replyString(previous), score: replyNumber(score, 'session_update') };
}
