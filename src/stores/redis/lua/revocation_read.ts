/** Typed wrapper of `revocation_read.lua` (see its header). */
import { replyArray, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface RevocationReadInput {
  /** The user's revoke-all record. */
  readonly watermarkKey: string;
  /** The family hash, when the token names a family (same slot as the watermark). */
  readonly familyKey: string | null;
  /** The user index and the session id to score in it, when the token names a session. */
  readonly session: { readonly indexKey: string; readonly sessionId: string } | null;
  /** The jti's blacklist entry, read here only where keys of several slots may meet (not Cluster). */
  readonly blacklistKey: string | null;
}

export interface RevocationReadReply {
  readonly watermarkJson: string | null;
  /** `[revoked, expiresAt]` of the family (each `null` when absent), or `null` when not asked. */
  readonly family: [string | null, string | null] | null;
  /** The session's score in its user index (ms), or `null` (absent, or not asked). */
  readonly sessionScore: number | null;
  /** The blacklist entry when `blacklistKey` was given (else `null`). */
  readonly blacklistJson: string | null;
}

export async function revocationRead(
  run: ScriptRunner,
  input: RevocationReadInput,
): Promise<RevocationReadReply> {
  const { watermarkKey, familyKey, session, blacklistKey } = input;
  const reply = replyArray(
    await run(
      SCRIPTS.revocation_read,
      [
        watermarkKey,
        familyKey ?? watermarkKey,
        session?.indexKey ?? watermarkKey,
        blacklistKey ?? watermarkKey,
      ],
      [familyKey === null ? '0' : '1', session?.sessionId ?? '', blacklistKey === null ? '0' : '1'],
    ),
    'revocation_read',
  );
  const score = replyString(reply[3]);
  return {
    watermarkJson: replyString(reply[0]),
    family: familyKey === null ? null : [replyString(reply[1]), replyString(reply[2])],
    sessionScore: score === null ? null : Number(score),
    blacklistJson: blacklistKey === null ? null : replyString(reply[4]),
  };
}
