/**
 * Verified tokens by their exact text, and the revocation question of each verified payload.
 */
import { ClaimsRevocationQuery } from '../../core/checked/revocation.js';
import { Generations } from '../../core/generations.js';
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

/** A cache entry: the verified token and the exact text it was verified from. */
interface Entry extends VerifiedToken {
  readonly token: string;
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
   * Verified tokens by their exact text (see `verifiedTokenCacheSize`; looked up by the
   * signature), each with its revocation query: one entry per token. Only a token whose signature
   * and claims passed is stored; its claims are frozen, since every later caller shares them. The
   * key ring never changes after creation, so a stored verdict on the signature stays true; the
   * time claims are checked again on every hit. Two generations of half the size each (`Generations`).
   */
  const verified = new Generations<string, Entry>(Math.ceil(verifiedCacheSize / 2));

  function decode(token: string): VerifiedToken {
    // Looked up by the signature segment (43 characters for HS256) rather than the whole text
    // (~600): hashing the key is most of a lookup's cost, and every request brings a new string.
    // Only the exact text is a hit: a token reusing another's signature is verified in full.
    // (Anything but a string goes to `verifyCompact`, which refuses it with a typed error.)
    const dot = typeof token === 'string' ? token.lastIndexOf('.') : -1;
    const key = dot === -1 ? token : token.slice(dot + 1);
    const hit = verified.get(key);
    if (hit !== undefined && hit.token === token) {
      try {
        checkTimes(hit.payload);
      } catch (err) {
        verified.delete(key);
        throw err;
      }
      return hit;
    }
    const payload = deepFreeze(checkClaims(verifyCompact(ring, token)));
    // The revocation question, built from the claims just checked (so the checked facade need not
    // check it again) and frozen (a store may key what it keeps in process on the object).
    const entry: Entry = {
      token,
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
    if (verifiedCacheSize > 0) verified.set(key, entry);
    return entry;
  }

  return { decode };
}
