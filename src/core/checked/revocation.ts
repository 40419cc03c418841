import type { RevocationReason } from '../errors.js';
import { assertId, assertUserId } from '../ids.js';
import type { RevocationChecker, RevocationQuery } from '../ports.js';
import { assertFiniteNumber, assertObject } from '../validate.js';
import { type CheckContext, KnownIds } from './context.js';

/**
 * A revocation query the JWT service builds from a token whose claims it has just checked
 * (`services/jwt/claims.ts`, `checkClaims`), which covers everything `CheckedRevocationChecker`
 * would check again: `sub` is a user id (`assertUserId`), `jti` matches `[A-Za-z0-9_-]{1,64}` (a
 * subset of `assertId`'s pattern), `sid` and `fid` parse under the stores' id codec, `ugen` is a
 * safe integer, `iat_ms` and `exp` are finite. The facade passes it through unchecked (the checks
 * were a fifth of the facade-to-Redis cost of a first-sight verification). Frozen: it always asks
 * the same question, so a store may key what it keeps on the object itself.
 */
export class ClaimsRevocationQuery implements RevocationQuery {
  readonly jti: string;
  readonly userId: string;
  readonly issuedAtMs: number;
  readonly userGeneration: number | undefined;
  readonly familyId: string | undefined;
  readonly sessionId: string | undefined;
  readonly expiresAtMs: number | undefined;

  constructor(
    jti: string,
    userId: string,
    issuedAtMs: number,
    userGeneration: number | undefined,
    familyId: string | undefined,
    sessionId: string | undefined,
    expiresAtMs: number | undefined,
  ) {
    this.jti = jti;
    this.userId = userId;
    this.issuedAtMs = issuedAtMs;
    this.userGeneration = userGeneration;
    this.familyId = familyId;
    this.sessionId = sessionId;
    this.expiresAtMs = expiresAtMs;
    Object.freeze(this);
  }
}

/**
 * `RevocationChecker` with the query checked before the backend sees it. Every token verification
 * comes here, so a frozen query (the JWT service freezes one per token) is checked once and
 * remembered by identity: it cannot change afterwards. A mutable query is checked on every call
 * (its family and session ids against the ids already seen: `KnownIds`). A
 * `ClaimsRevocationQuery` (built from checked claims) is not checked again.
 */
export class CheckedRevocationChecker implements RevocationChecker {
  readonly #inner: RevocationChecker;
  readonly #checkedQueries = new WeakSet<RevocationQuery>();
  readonly #knownIds: KnownIds;

  constructor(inner: RevocationChecker, ctx: CheckContext) {
    this.#inner = inner;
    this.#knownIds = new KnownIds(ctx.ids);
  }

  check(query: RevocationQuery): Promise<RevocationReason | null> {
    if (query instanceof ClaimsRevocationQuery) return this.#inner.check(query);
    if (!this.#checkedQueries.has(query)) {
      try {
        this.#assertQuery(query);
      } catch (err) {
        return Promise.reject(err);
      }
      if (Object.isFrozen(query)) this.#checkedQueries.add(query);
    }
    return this.#inner.check(query);
  }

  #assertQuery(query: RevocationQuery): void {
    assertObject('query', query);
    assertId('jti', query.jti);
    assertUserId(query.userId);
    assertFiniteNumber('issuedAtMs', query.issuedAtMs);
    if (query.userGeneration !== undefined) assertFiniteNumber('userGeneration', query.userGeneration);
    if (query.expiresAtMs !== undefined) assertFiniteNumber('expiresAtMs', query.expiresAtMs);
    if (query.familyId !== undefined) this.#knownIds.assert('familyId', query.familyId);
    if (query.sessionId !== undefined) this.#knownIds.assert('sessionId', query.sessionId);
  }
}
