/** Typed wrapper of `family_revoke.lua` (see its header). */
import { replyNumber } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The family's expiry (ms) once revoked (a tombstone's when the family was unknown or expired). */
export async function familyRevoke(
  run: ScriptRunner,
  input: {
    readonly familyKey: string;
    /** The family's revocation mark (`keys.familyRevoked`). */
    readonly markKey: string;
    readonly now: number;
    /** The family stays revoked at least this long (ms, > 0); its life is never shortened. */
    readonly ttlMs: number;
    readonly reason: string;
  },
): Promise<number> {
  return replyNumber(
    await run(
      SCRIPTS.family_revoke,
      [input.familyKey, input.markKey],
      [String(input.now), String(input.ttlMs), input.reason],
    ),
    'family_revoke',
  );
}
