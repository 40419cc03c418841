import type { RevocationReason } from '../errors.js';
import { assertId, assertUserId } from '../ids.js';
import type { RevocationChecker, RevocationQuery } from '../ports.js';
import { assertFiniteNumber, assertObject } from '../validate.js';
import { type CheckContext, checked } from './context.js';

/**
 * `RevocationChecker` with the query checked before the backend sees it. Every token verification
 * comes here, so a frozen query (the JWT service freezes one per token) is checked once and
 * remembered by identity: it cannot change afterwards. A mutable query is checked on every call.
 */
export class CheckedRevocationChecker implements RevocationChecker {
  readonly #inner: RevocationChecker;
  readonly #ctx: CheckContext;
  readonly #checkedQueries = new WeakSet<RevocationQuery>();

  constructor(inner: RevocationChecker, ctx: CheckContext) {
    this.#inner = inner;
    this.#ctx = ctx;
  }

  check(query: RevocationQuery): Promise<RevocationReason | null> {
    if (this.#checkedQueries.has(query)) return this.#inner.check(query);
    return checked(
      () => {
        this.#assertQuery(query);
        if (Object.isFrozen(query)) this.#checkedQueries.add(query);
      },
      () => this.#inner.check(query),
    );
  }

  #assertQuery(query: RevocationQuery): void {
    assertObject('query', query);
    assertId('jti', query.jti);
    assertUserId(query.userId);
    assertFiniteNumber('issuedAtMs', query.issuedAtMs);
    if (query.userGeneration !== undefined) assertFiniteNumber('userGeneration', query.userGeneration);
    if (query.expiresAtMs !== undefined) assertFiniteNumber('expiresAtMs', query.expiresAtMs);
    if (query.familyId !== undefined) this.#ctx.ids.parse('familyId', query.familyId);
    if (query.sessionId !== undefined) this.#ctx.ids.parse('sessionId', query.sessionId);
  }
}
