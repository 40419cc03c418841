import { InvalidArgumentError } from '../errors.js';
import { assertId, assertUserId } from '../ids.js';
import type {
  BlacklistAllUserTokensInput,
  BlacklistTokenFamilyInput,
  BlacklistTokenInput,
  GuideTokenBlacklist,
  RevokeUserTokensBeforeInput,
} from '../ports.js';
import type { BlacklistEntry } from '../types.js';
import { assertFiniteNumber, assertNonEmptyString, assertObject, assertTtlSeconds } from '../validate.js';
import type { CheckContext } from './context.js';

/** `GuideTokenBlacklist` (the port and the guide's extra methods) with every argument checked before the backend sees it. */
export class CheckedTokenBlacklist implements GuideTokenBlacklist {
  readonly #inner: GuideTokenBlacklist;
  readonly #ctx: CheckContext;

  constructor(inner: GuideTokenBlacklist, ctx: CheckContext) {
    this.#inner = inner;
    this.#ctx = ctx;
  }

  async blacklistToken(input: BlacklistTokenInput): Promise<void> {
    assertObject('input', input);
    assertId('jti', input.jti);
    if (input.userId !== undefined && input.userId !== null) assertUserId(input.userId);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    assertNonEmptyString('reason', input.reason);
    return this.#inner.blacklistToken(input);
  }

  async isBlacklisted(jti: string): Promise<boolean> {
    assertId('jti', jti);
    return this.#inner.isBlacklisted(jti);
  }

  async getEntry(jti: string): Promise<BlacklistEntry | null> {
    assertId('jti', jti);
    return this.#inner.getEntry(jti);
  }

  async blacklistAllUserTokens(input: BlacklistAllUserTokensInput): Promise<number> {
    assertObject('input', input);
    assertUserId(input.userId);
    if (!Array.isArray(input.tokenJtis)) throw new InvalidArgumentError('tokenJtis', 'must be an array');
    // Every id is checked before anything is written: one bad jti writes nothing.
    for (const jti of input.tokenJtis) assertId('jti', jti);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    assertNonEmptyString('reason', input.reason);
    return this.#inner.blacklistAllUserTokens(input);
  }

  async blacklistTokenFamily(input: BlacklistTokenFamilyInput): Promise<void> {
    assertObject('input', input);
    this.#ctx.ids.parse('familyId', input.familyId);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    assertNonEmptyString('reason', input.reason);
    return this.#inner.blacklistTokenFamily(input);
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    this.#ctx.ids.parse('familyId', familyId);
    return this.#inner.isFamilyRevoked(familyId);
  }

  async revokeUserTokensBefore(input: RevokeUserTokensBeforeInput): Promise<void> {
    assertObject('input', input);
    assertUserId(input.userId);
    assertFiniteNumber('beforeMs', input.beforeMs);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    return this.#inner.revokeUserTokensBefore(input);
  }

  async getUserWatermark(userId: string): Promise<number | null> {
    assertUserId(userId);
    return this.#inner.getUserWatermark(userId);
  }

  async getUserGeneration(userId: string): Promise<number> {
    assertUserId(userId);
    return this.#inner.getUserGeneration(userId);
  }

  cleanupExpired(): Promise<number> {
    return this.#inner.cleanupExpired();
  }
}
