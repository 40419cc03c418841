/**
 * Verified tokens by their exact text, and the revocation question of each verified payload.
 */
import { ClaimsRevocationQuery } from '../../core/checked/revocation.js';
import type { RevocationQuery } from '../../core/ports.js';
import type { AccessTokenPayload } from '../types.js';
import { type Claims, deepFreeze } from './claims.js';
import { verifyCompact } from './compact.js';
import type { KeyRing } from './key-ring.js';

/** A verified token: its checked claims and their revocation question (one frozen query per token). */
export interface VerifiedToken {
  readonly payload: AccessTokenPayload;
  readonly query: RevocationQuery;
}

export interface VerifiedTokens {
  /**
   * The checked claims of `token` and its revocation query (from the cache when its exact text
   * passed before).
   */
  decode(token: string): VerifiedToken;
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
   * Verified tokens by their exact text (see `verifiedTokenCacheSize`), each with its revocation
   * query: one entry per token. Only a token whose signature and claims passed is stored; its
   * claims are frozen, since every later caller shares them. The key ring never changes after
   * creation, so a stored verdict on the signature stays true; the time claims are checked again
   * on every hit. Two generations of half the size each: when the young one is full it becomes
   * the old one and the previous old one is dropped whole (deleting the oldest `Map` entry one at
   * a time makes V8 walk the deleted slots before it on every eviction: that was a fifth of a
   * first-sight decode). A hit in the old generation moves the token to the young one.
   */
  const generationSize = Math.ceil(verifiedCacheSize / 2);
  let young = new Map<string, VerifiedToken>();
  let old = new Map<string, VerifiedToken>();
  const keep = (token: string, entry: VerifiedToken): void => {
    if (young.size >= generationSize) {
      old = young;
      young = new Map();
    }
    young.set(token, entry);
  };

  function decode(token: string): VerifiedToken {
    let hit = young.get(token);
    if (hit === undefined) {
      hit = old.get(token);
      if (hit !== undefined) keep(token, hit);
    }
    if (hit !== undefined) {
      try {
        checkTimes(hit.payload);
      } catch (err) {
        young.delete(token);
        old.delete(token);
        throw err;
      }
      return hit;
    }
    const payload = deepFreeze(checkClaims(verifyCompact(ring, token)));
    // The revocation question, built from the claims just checked (so the checked facade need not
    // check it again) and frozen (a store may key what it keeps in process on the object).
    const entry: VerifiedToken = {
      payload,
      query: new ClaimsRevocationQuery(
        payload.jti,
        payload.sub,
        payload.iat_ms,
        payload.ugen,
        payload.fid,
        payload.sid,
        payload.exp * 1000,
      ),
    };
    if (verifiedCacheSize > 0) keep(token, entry);
    return entry;
  }

  return { decode };
}
