import { InvalidArgumentError } from '../errors.js';
import { assertUserId } from '../ids.js';
import type {
  CreateFamilyInput,
  RefreshFamilyStore,
  RevokeWithTokenInput,
  RotateFamilyInput,
  RotateResult,
} from '../ports.js';
import type { RefreshFamily } from '../types.js';
import {
  assertFiniteNumber,
  assertNonEmptyString,
  assertObject,
  assertTtlSeconds,
  assertUserScoped,
} from '../validate.js';
import { type CheckContext, checked } from './context.js';

/** `RefreshFamilyStore` with every argument checked before the backend sees it. */
export class CheckedRefreshFamilies implements RefreshFamilyStore {
  readonly #inner: RefreshFamilyStore;
  readonly #ctx: CheckContext;

  constructor(inner: RefreshFamilyStore, ctx: CheckContext) {
    this.#inner = inner;
    this.#ctx = ctx;
  }

  async create(input: CreateFamilyInput): Promise<RefreshFamily> {
    const { ids } = this.#ctx;
    assertObject('input', input);
    ids.parse('familyId', input.familyId);
    assertUserId(input.userId);
    ids.parse('sessionId', input.sessionId);
    assertUserScoped(ids, 'familyId', input.familyId, input.userId);
    assertUserScoped(ids, 'sessionId', input.sessionId, input.userId);
    assertNonEmptyString('tokenHash', input.tokenHash);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    if (input.claims !== undefined && input.claims !== null && typeof input.claims !== 'string') {
      throw new InvalidArgumentError('claims', 'must be a string');
    }
    return this.#inner.create(input);
  }

  async get(familyId: string): Promise<RefreshFamily | null> {
    this.#ctx.ids.parse('familyId', familyId);
    return this.#inner.get(familyId);
  }

  async revokeWithToken(input: RevokeWithTokenInput): Promise<RefreshFamily | null> {
    assertObject('input', input);
    this.#ctx.ids.parse('familyId', input.familyId);
    assertNonEmptyString('presentedHash', input.presentedHash);
    assertNonEmptyString('reason', input.reason);
    return this.#inner.revokeWithToken(input);
  }

  rotate(input: RotateFamilyInput): Promise<RotateResult> {
    // Every refresh goes through here: no async wrapper.
    return checked(
      () => {
        assertObject('input', input);
        this.#ctx.ids.parse('familyId', input.familyId);
        assertNonEmptyString('presentedHash', input.presentedHash);
        assertNonEmptyString('nextHash', input.nextHash);
        if (typeof input.childBlob !== 'string')
          throw new InvalidArgumentError('childBlob', 'must be a string');
        assertFiniteNumber('graceMs', input.graceMs);
        if (input.graceMs < 0) throw new InvalidArgumentError('graceMs', 'must not be negative');
        if (input.owner !== undefined) {
          assertObject('owner', input.owner);
          assertUserId(input.owner.userId);
          this.#ctx.ids.parse('owner.sessionId', input.owner.sessionId);
        }
      },
      () => this.#inner.rotate(input),
    );
  }
}
