/** Typed wrapper of `family_revoke_token.lua` (see its header). */
import { replyArray, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/**
 * The family's view `[userId, sessionId, gen, createdAt, expiresAt, revoked, reason, claims, ugen]`
 * as it now is (the caller decodes it), or `null` when the family is unknown, expired, or never had
 * the presented hash.
 */
export async function familyRevokeToken(
  run: ScriptRunner,
  input: {
    readonly familyKey: string;
    /** The family's revocation mark (`keys.familyRevoked`). */
    readonly markKey: string;
    readonly now: number;
    readonly presentedHash: string;
    /** Recorded unless the family is already revoked (the first reason is kept). */
    readonly reason: string;
  },
): Promise<Array<string | null> | null> {
  const reply = await run(
    SCRIPTS.family_revoke_token,
    [input.familyKey, input.markKey],
    [String(input.now), input.presentedHash, input.reason],
  );
  if (reply === null || reply === undefined) return null;
  return replyArray(reply, 'family_revoke_token').map(replyString);
}
