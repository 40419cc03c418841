import { InvalidArgumentError } from '../../core/errors.js';
import { assertId, parseUserScopedId } from '../../core/ids.js';
import type { RefreshFamilyStore, RotateResult } from '../../core/ports.js';
import type { RefreshFamily } from '../../core/types.js';
import { copyFamily, copySession, type MemoryState } from './state.js';
import { ttlMs } from './token-blacklist.js';
import { assertFiniteNumber, assertNonEmptyString, assertTtlSeconds, assertUserScoped } from './validate.js';

/** The reason recorded on a family revoked because one of its tokens was presented twice. */
export const REUSE_REASON = 'token_reuse_detected';

/**
 * In-memory `RefreshFamilyStore`. `rotate` is one synchronous compare-and-set over the family, its
 * session and the user's watermark, so concurrent presentations of one token cannot fork it.
 */
export class MemoryRefreshFamilies implements RefreshFamilyStore {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async create(input: {
    familyId: string;
    userId: string;
    sessionId: string;
    tokenHash: string;
    ttlSeconds: number;
  }): Promise<RefreshFamily> {
    parseUserScopedId('familyId', input.familyId);
    assertId('userId', input.userId);
    parseUserScopedId('sessionId', input.sessionId);
    assertUserScoped('familyId', input.familyId, input.userId);
    assertUserScoped('sessionId', input.sessionId, input.userId);
    assertNonEmptyString('tokenHash', input.tokenHash);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    const state = this.#state;
    const now = state.now();
    if (state.read(state.families, input.familyId, now) !== undefined) {
      // Re-creating would un-revoke a revoked family or restart a rotated one.
      throw new InvalidArgumentError('familyId', 'already exists');
    }
    const family: RefreshFamily = {
      familyId: input.familyId,
      userId: input.userId,
      sessionId: input.sessionId,
      generation: 0,
      createdAt: now,
      expiresAt: now + ttlMs(input.ttlSeconds),
      revoked: false,
      revokedReason: null,
    };
    state.families.set(input.familyId, {
      value: { family, currentHash: input.tokenHash, previousHash: null, rotatedAt: null, childBlob: null },
      expiresAt: family.expiresAt,
    });
    return copyFamily(family);
  }

  async get(familyId: string): Promise<RefreshFamily | null> {
    parseUserScopedId('familyId', familyId);
    const record = this.#state.read(this.#state.families, familyId);
    return record === undefined ? null : copyFamily(record.family);
  }

  async rotate(input: {
    familyId: string;
    presentedHash: string;
    nextHash: string;
    childBlob: string;
    graceMs: number;
  }): Promise<RotateResult> {
    parseUserScopedId('familyId', input.familyId);
    assertNonEmptyString('presentedHash', input.presentedHash);
    assertNonEmptyString('nextHash', input.nextHash);
    if (typeof input.childBlob !== 'string') throw new InvalidArgumentError('childBlob', 'must be a string');
    assertFiniteNumber('graceMs', input.graceMs);
    if (input.graceMs < 0) throw new InvalidArgumentError('graceMs', 'must not be negative');

    const state = this.#state;
    const now = state.now();
    const record = state.read(state.families, input.familyId, now);
    if (record === undefined) return { status: 'not_found' };
    const family = record.family;
    if (family.revoked) return { status: 'revoked', family: copyFamily(family) };
    const watermark = state.watermark(family.userId, now);
    if (watermark !== null && watermark > family.createdAt) {
      // Revoked by "revoke everything before": reported, not written (the watermark already is).
      return { status: 'revoked', family: { ...family, revoked: true, revokedReason: 'user_revoked' } };
    }
    if (state.liveSession(family.sessionId, now) === null) {
      return { status: 'session_ended', family: copyFamily(family) };
    }

    if (input.presentedHash === record.currentHash) {
      const rotated: RefreshFamily = { ...family, generation: family.generation + 1 };
      record.family = rotated;
      record.previousHash = record.currentHash;
      record.currentHash = input.nextHash;
      record.rotatedAt = now;
      record.childBlob = input.childBlob;
      return { status: 'rotated', family: copyFamily(rotated) };
    }
    if (
      input.presentedHash === record.previousHash &&
      record.rotatedAt !== null &&
      record.childBlob !== null &&
      now - record.rotatedAt <= input.graceMs
    ) {
      return { status: 'grace', family: copyFamily(family), childBlob: record.childBlob };
    }

    // Reuse: revoke the family and end its session in the same step.
    const revoked: RefreshFamily = { ...family, revoked: true, revokedReason: REUSE_REASON };
    record.family = revoked;
    state.revokedFamilies.set(family.familyId, family.expiresAt);
    const sessionEnded = state.endSession(family.sessionId, now);
    return {
      status: 'reused',
      family: copyFamily(revoked),
      sessionEnded: sessionEnded === null ? null : copySession(sessionEnded),
    };
  }
}
