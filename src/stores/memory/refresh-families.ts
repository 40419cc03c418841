import { InvalidArgumentError } from '../../core/errors.js';
import { assertUserId } from '../../core/ids.js';
import type { RefreshFamilyStore, RotateResult } from '../../core/ports.js';
import type { RefreshFamily } from '../../core/types.js';
import { copyFamily, copySession, FAMILY_HISTORY, type MemoryState } from './state.js';
import { ttlMs } from './token-blacklist.js';
import {
  assertFiniteNumber,
  assertNonEmptyString,
  assertTtlSeconds,
  assertUserScoped,
} from '../../core/validate.js';

/** The reason recorded on a family revoked because one of its tokens was presented twice. */
export const REUSE_REASON = 'token_reuse_detected';

/**
 * In-memory `RefreshFamilyStore`. `rotate` is one synchronous compare-and-set over the family, its
 * session and the user's watermark, so concurrent presentations of one token cannot fork it. A
 * family remembers its current and previous hash and the last 32 consumed hashes, so reuse of an
 * old token is told apart from a hash the family never had (`invalid`, nothing changes).
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
    claims?: string | null;
  }): Promise<RefreshFamily> {
    this.#state.ids.parse('familyId', input.familyId);
    assertUserId(input.userId);
    this.#state.ids.parse('sessionId', input.sessionId);
    assertUserScoped(this.#state.ids, 'familyId', input.familyId, input.userId);
    assertUserScoped(this.#state.ids, 'sessionId', input.sessionId, input.userId);
    assertNonEmptyString('tokenHash', input.tokenHash);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    const claims = input.claims ?? null;
    if (claims !== null && typeof claims !== 'string') {
      throw new InvalidArgumentError('claims', 'must be a string');
    }
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
      claims,
      userGeneration: state.userGeneration(input.userId, now),
    };
    state.families.set(input.familyId, {
      value: {
        family,
        currentHash: input.tokenHash,
        previousHash: null,
        rotatedAt: null,
        childBlob: null,
        history: [],
      },
      expiresAt: family.expiresAt,
    });
    return copyFamily(family);
  }

  async get(familyId: string): Promise<RefreshFamily | null> {
    this.#state.ids.parse('familyId', familyId);
    const record = this.#state.read(this.#state.families, familyId);
    return record === undefined ? null : copyFamily(record.family);
  }

  async rotate(input: {
    familyId: string;
    presentedHash: string;
    nextHash: string;
    childBlob: string;
    graceMs: number;
    owner?: { userId: string; sessionId: string };
  }): Promise<RotateResult> {
    this.#state.ids.parse('familyId', input.familyId);
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
    const owner = input.owner;
    if (owner !== undefined && (owner.userId !== family.userId || owner.sessionId !== family.sessionId))
      return { status: 'not_found' };
    const current = input.presentedHash === record.currentHash;
    const previous = record.previousHash !== null && input.presentedHash === record.previousHash;
    if (!current && !previous && !record.history.includes(input.presentedHash)) {
      // Never one of the family's tokens: a forged secret for a known (visible) family id must
      // not be able to revoke the family, nor learn whether it is revoked. Nothing changes.
      return { status: 'invalid' };
    }
    if (family.revoked) return { status: 'revoked', family: copyFamily(family) };
    if (revokedByUser(state, family, now)) {
      // Revoked by the user's revoke-all: reported, not written (the generation already is).
      return { status: 'revoked', family: { ...family, revoked: true, revokedReason: 'user_revoked' } };
    }
    const session = state.liveSession(family.sessionId, now);
    if (session === null && (current || previous)) {
      return { status: 'session_ended', family: copyFamily(family) };
    }

    if (current) {
      const rotated: RefreshFamily = { ...family, generation: family.generation + 1 };
      record.family = rotated;
      record.previousHash = input.presentedHash;
      record.history.push(input.presentedHash);
      if (record.history.length > FAMILY_HISTORY) record.history.shift();
      record.currentHash = input.nextHash;
      record.rotatedAt = now;
      record.childBlob = input.childBlob;
      return { status: 'rotated', family: copyFamily(rotated) };
    }
    if (
      previous &&
      record.rotatedAt !== null &&
      record.childBlob !== null &&
      now - record.rotatedAt <= input.graceMs
    ) {
      return { status: 'grace', family: copyFamily(family), childBlob: record.childBlob };
    }

    // Reuse (the previous token after the window, or an older one): revoke the family and end its
    // session in the same step.
    const revoked: RefreshFamily = { ...family, revoked: true, revokedReason: REUSE_REASON };
    record.family = revoked;
    state.revokedFamilies.set(family.familyId, family.expiresAt);
    state.endSession(family.sessionId, now);
    return {
      status: 'reused',
      family: copyFamily(revoked),
      sessionEnded: session === null ? null : copySession(session),
    };
  }

  async revokeWithToken(input: {
    familyId: string;
    presentedHash: string;
    reason: string;
  }): Promise<RefreshFamily | null> {
    this.#state.ids.parse('familyId', input.familyId);
    assertNonEmptyString('presentedHash', input.presentedHash);
    assertNonEmptyString('reason', input.reason);
    const state = this.#state;
    const record = state.read(state.families, input.familyId);
    if (record === undefined) return null;
    const known =
      input.presentedHash === record.currentHash ||
      input.presentedHash === record.previousHash ||
      record.history.includes(input.presentedHash);
    if (!known) return null;
    if (!record.family.revoked) {
      // The first reason is kept: a later logout does not rewrite why the family was revoked.
      record.family = { ...record.family, revoked: true, revokedReason: input.reason };
      state.revokedFamilies.set(input.familyId, record.family.expiresAt);
    }
    return copyFamily(record.family);
  }
}

/**
 * Whether the user's revoke-all covers the family: its generation is behind the user's, or (a
 * family written before generations) the legacy watermark is after its creation.
 */
export function revokedByUser(state: MemoryState, family: RefreshFamily, now: number): boolean {
  if (family.userGeneration !== null) return state.userGeneration(family.userId, now) > family.userGeneration;
  const watermark = state.watermark(family.userId, now);
  return watermark !== null && watermark > family.createdAt;
}
