/** Typed wrapper of `family_create.lua` (see its header). */
import { replyString, unexpectedReply } from '../context.js';
import { SCRIPTS, type ScriptRunner } from '../scripts.js';

export interface FamilyCreateInput {
  readonly familyKey: string;
  readonly watermarkKey: string;
  readonly now: number;
  /** TTL of the family (ms, > 0); it expires at `now + ttlMs`. */
  readonly ttlMs: number;
  readonly userId: string;
  readonly sessionId: string;
  /** SHA-256 of the first refresh secret. */
  readonly tokenHash: string;
  readonly claims: string | null;
}

/** The user's generation the family was created under, or `null` when a live family has this id (nothing written). */
export async function familyCreate(run: ScriptRunner, input: FamilyCreateInput): Promise<number | null> {
  const now = String(input.now);
  const fields = [
    ...['userId', input.userId, 'sessionId', input.sessionId, 'cur', input.tokenHash, 'gen', '0'],
    ...['createdAt', now, 'expiresAt', String(input.now + input.ttlMs), 'revoked', '0'],
    ...(input.claims === null ? [] : ['claims', input.claims]),
  ];
  const reply = replyString(
    await run(
      SCRIPTS.family_create,
      [input.familyKey, input.watermarkKey],
      [now, String(input.ttlMs), ...fields],
    ),
  );
  const userGeneration = Number(reply);
  if (reply === null || !Number.isFinite(userGeneration)) throw unexpectedReply('family_create', reply);
  return userGeneration < 0 ? null : userGeneration;
}
