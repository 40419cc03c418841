/** Typed wrapper of `family_create.lua` (see its header). */
import { arg, replyArray, replyString, unexpectedReply } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface FamilyCreateInput {
  readonly familyKey: string;
  readonly watermarkKey: string;
  /** The user's family index (familyId -> sessionId). */
  readonly userFamiliesKey: string;
  /** The user's session index. */
  readonly userSessionsKey: string;
  /** The record of the family's session. */
  readonly sessionKey: string;
  readonly familyId: string;
  readonly now: number;
  /** TTL of the family (ms, > 0), before the cut to the session's absolute end. */
  readonly ttlMs: number;
  readonly userId: string;
  readonly sessionId: string;
  /** SHA-256 of the first refresh secret. */
  readonly tokenHash: string;
  readonly claims: string | null;
}

export interface FamilyCreateResult {
  /** The user's generation the family was created under. */
  readonly userGeneration: number;
  /** When the family expires (ms), after the cut to its session's absolute end. */
  readonly expiresAt: number;
  /** Ids of the user's families whose session has ended (the caller deletes them). */
  readonly ended: string[];
}

/** What the script created, or `null` when a live family has this id (nothing written). */
export async function familyCreate(
  run: ScriptRunner,
  input: FamilyCreateInput,
): Promise<FamilyCreateResult | null> {
  const now = arg(input.now);
  const fields = [
    ...['userId', input.userId, 'sessionId', input.sessionId, 'cur', input.tokenHash, 'gen', '0'],
    ...['createdAt', now, 'revoked', '0'],
    ...(input.claims === null ? [] : ['claims', input.claims]),
  ];
  const reply = replyArray(
    await run(
      SCRIPTS.family_create,
      [input.familyKey, input.watermarkKey, input.userFamiliesKey, input.userSessionsKey, input.sessionKey],
      [now, arg(input.ttlMs), input.familyId, input.sessionId, ...fields],
    ),
    'family_create',
  ).map(replyString);
  const [gen, expiry, ...ended] = reply;
  const userGeneration = Number(gen);
  if (gen === null || gen === undefined || !Number.isFinite(userGeneration))
    throw unexpectedReply('family_create', reply);
  if (userGeneration < 0) return null;
  const expiresAt = Number(expiry);
  if (expiry === null || expiry === undefined || !Number.isFinite(expiresAt))
    throw unexpectedReply('family_create', reply);
  return {
    userGeneration,
    expiresAt,
    ended: ended.filter((id): id is string => typeof id === 'string'),
  };
}
