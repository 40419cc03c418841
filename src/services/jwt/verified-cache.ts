/**
 * Verified tokens by their exact text, and the revocation question of each verified payload.
 */
import type { RevocationQuery } from '../../core/ports.js';
import type { AccessTokenPayload } from '../types.js';
import { type Claims, deepFreeze } from './claims.js';
import { verifyCompact } from './compact.js';
import type { KeyRing } from './key-ring.js';

export interface VerifiedTokens {
  /** The checked claims of `token` (from the cache when its exact text passed before). */
  decodeVerified(token: string): AccessTokenPayload;
  /** One frozen revocation query per payload. */
  revocationQuery(payload: AccessTokenPayload): RevocationQuery;
}

export function createVerifiedTokens(options: {
  ring: KeyRing;
  claims: Claims;
  /** Entries kept (0: none). */
  size: number;
}): VerifiedTokens {
  const { ring, size: verifiedCacheSize } = options;
  const { checkTimes, checkClaims } = options.claims;

  /**
   * Verified tokens by their exact text (see `verifiedTokenCacheSize`). Only a token whose
   * signature and claims passed is stored; its claims are frozen, since every later caller
   * shares them. The key ring never changes after creation, so a stored verdict on the signature
   * stays true; the time claims are checked again on every hit.
   */
  const verified = new Map<string, AccessTokenPayload>();

  function decodeVerified(token: string): AccessTokenPayload {
    const hit = verified.get(token);
    if (hit !== undefined) {
      try {
        checkTimes(hit);
      } catch (err) {
        verified.delete(token);
        throw err;
      }
      return hit;
    }
    const payload = deepFreeze(checkClaims(verifyCompact(ring, token)));
    if (verifiedCacheSize > 0) {
      if (verified.size >= verifiedCacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, payload);
    }
    return payload;
  }

  /**
   * The revocation question of a verified payload, one frozen object per payload (the payloads of
   * the verified-token cache are themselves frozen and reused), so a store may key what it keeps
   * in process on the object rather than rebuild a key per check.
   */
  const queries = new WeakMap<AccessTokenPayload, RevocationQuery>();
  function revocationQuery(payload: AccessTokenPayload): RevocationQuery {
    let query = queries.get(payload);
    if (query === undefined) {
      query = Object.freeze({
        jti: payload.jti,
        userId: payload.sub,
        issuedAtMs: payload.iat_ms,
        userGeneration: payload.ugen,
        familyId: payload.fid,
        sessionId: payload.sid,
        expiresAtMs: payload.exp * 1000,
      });
      queries.set(payload, query);
    }
    return query;
  }

  return { decodeVerified, revocationQuery };
}
