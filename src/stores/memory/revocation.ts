import type { RevocationReason } from '../../core/errors.js';
import type { RevocationChecker, RevocationQuery } from '../../core/ports.js';
import type { MemoryState } from './state.js';

/**
 * In-memory `RevocationChecker`. Checks, in order: the jti's blacklist entry, the user's
 * generation (legacy tokens: watermark), the token's family, the token's session; returns the first that revokes it.
 * The query is checked by `CheckedRevocationChecker` (`core/checked/`) before it gets here.
 */
export class MemoryRevocationChecker implements RevocationChecker {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async check(query: RevocationQuery): Promise<RevocationReason | null> {
    const state = this.#state;
    const now = state.now();
    if (state.read(state.blacklist, query.jti, now) !== undefined) return 'blacklisted';
    if (query.userGeneration !== undefined) {
      if (state.userGeneration(query.userId, now) > query.userGeneration) return 'user_revoked';
    } else {
      // A token minted before generations existed: the legacy time watermark.
      const watermark = state.watermark(query.userId, now);
      if (watermark !== null && watermark > query.issuedAtMs) return 'user_revoked';
    }
    const family = query.familyId === undefined ? undefined : state.read(state.families, query.familyId, now);
    if (family?.family.revoked) return 'family_revoked';
    if (query.sessionId !== undefined && state.liveSession(query.sessionId, now) === null) {
      return 'session_ended';
    }
    // An unknown or expired family revokes its tokens too (checked after the session: an ended
    // session's family is deleted, and its tokens say session_ended).
    if (query.familyId !== undefined && family === undefined) return 'family_revoked';
    return null;
  }
}
