import type { RevocationReason } from '../errors.js';
import { assertId, assertUserId } from '../ids.js';
import type { RevocationChecker, RevocationQuery } from '../ports.js';
import { assertFiniteNumber, assertObject } from '../validate.js';
import { type CheckContext, KnownIds } from './context.js';

/**
 * `RevocationChecker` with the query checked before the backend sees it. Every token verification
 * comes here, so a frozen query (the JWT service freezes one per token) is checked once and
 * remembered by identity: it cannot change afterwards. A mutable query is checked on every call
 * (its family and session ids against the ids already seen: `KnownIds`).
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
