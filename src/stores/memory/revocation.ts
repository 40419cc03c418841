import type { RevocationReason } from '../../core/errors.js';
import { assertUserId, assertId } from '../../core/ids.js';
import type { RevocationChecker, RevocationQuery } from '../../core/ports.js';
import type { MemoryState } from './state.js';
import { assertFiniteNumber } from '../../core/validate.js';

/**
 * In-memory `RevocationChecker`. Checks, in order: the jti's blacklist entry, the user's
 * generation (legacy tokens: watermark), the token's family, the token's session; returns the first that revokes it.
 */
export class MemoryRevocationChecker implements RevocationChecker {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async check(query: RevocationQuery): Promise<RevocationReason | null> {
    assertId('jti', query.jti);
    assertUserId(query.userId);
    assertFiniteNumber('issuedAtMs', query.issuedAtMs);
    if (query.userGeneration !== undefined) assertFiniteNumber('userGeneration', query.userGeneration);
    if (query.familyId !== undefined) this.#state.ids.parse('familyId', query.familyId);
    if (query.sessionId !== undefined) this.#state.ids.parse('sessionId', query.sessionId);

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
