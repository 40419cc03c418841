/** Typed wrapper of `family_rotate.lua` (see its header). */
import { replyArray } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface FamilyRotateInput {
  readonly familyKey: string;
  /** The family's session record, the user index and the user's watermark (the family's slot). */
  readonly recordKey: string;
  readonly userIndexKey: string;
  readonly watermarkKey: string;
  /** The family's revocation mark (`keys.familyRevoked`), written when reuse revokes the family. */
  readonly markKey: string;
  readonly now: number;
  /** The family's owner as the caller read it; another owner gets 'stale'. */
  readonly userId: string;
  readonly sessionId: string;
  readonly presentedHash: string;
  readonly nextHash: string;
  readonly childBlob: string;
  readonly graceMs: number;
  /** Recorded as the family's revocation reason when reuse revokes it. */
  readonly reuseReason: string;
}

/** `[status, view, extra, session]` as the script answers (the caller decodes the view). */
export type FamilyRotateReply = [status: unknown, view: unknown, extra: unknown, session: unknown];

export async function familyRotate(run: ScriptRunner, input: FamilyRotateInput): Promise<FamilyRotateReply> {
  const reply = replyArray(
    await run(
      SCRIPTS.family_rotate,
      [input.familyKey, input.recordKey, input.userIndexKey, input.watermarkKey, input.markKey],
      [
        String(input.now),
        input.sessionId,
        input.presentedHash,
        input.nextHash,
        input.childBlob,
        String(input.graceMs),
        input.reuseReason,
        input.userId,
      ],
    ),
    'family_rotate',
  );
  return [reply[0], reply[1], reply[2], reply[3]];
}
