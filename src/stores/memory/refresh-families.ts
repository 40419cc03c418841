import { InvalidArgumentError } from '../../core/errors.js';
import { REUSE_REASON, ttlMs } from '../../core/limits.js';
import type {
  CreateFamilyInput,
  RefreshFamilyStore,
  RevokeWithTokenInput,
  RotateFamilyInput,
  RotateResult,
} from '../../core/ports.js';
import type { RefreshFamily } from '../../core/types.js';
import { copyFamily, copySession, FAMILY_HISTORY, type MemoryState } from './state.js';

/**
 * In-memory `RefreshFamilyStore`. `rotate` is one synchronous compare-and-set over the family, its
 * session and the user's watermark, so concurrent presentations of one token cannot fork it. A
 * family remembers its current and previous hash and the last 32 consumed hashes, so reuse of an
 * old token is told apart from a hash the family never had (`invalid`, nothing changes).
 * Arguments are checked by `CheckedRefreshFamilies` (`core/checked/`) before they get here.
 */
export class MemoryRefreshFamilies implements RefreshFamilyStore {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async create(input: CreateFamilyInput): Promise<RefreshFamily> {
    const claims = input.claims ?? null;
    const state = this.#state;
    const now = state.now();
    if (state.read(state.families, input.familyId, now) !== undefined) {
      // Re-creating would un-revoke a revoked family or restart a rotated one.
      throw new InvalidArgumentError('familyId', 'already exists');
    }
    // Never past its session's absolute end (a family never outlives the session it refreshes).
    let px = ttlMs(input.ttlSeconds);
    const session = state.read(state.sessions, input.sessionId, now);
    if (session !== undefined) px = Math.max(1, Math.min(px, session.absoluteExpiresAt - now));
    const family: RefreshFamily = {
      familyId: input.familyId,
      userId: input.userId,
      sessionId: input.sessionId,
      generation: 0,
      createdAt: now,
      expiresAt: now + px,
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
    // The user's families, by session: those of sessions no longer live go now (bounded by the
    // session cap however often the user logs in).
    let owned = state.userFamilies.get(input.userId);
    if (owned === undefined) {
      owned = new Map();
      state.userFamilies.set(input.userId, owned);
    }
    owned.set(input.familyId, input.sessionId);
    state.dropEndedFamilies(input.userId, now, input.familyId);
    return copyFamily(family);
  }

  async get(familyId: string): Promise<RefreshFamily | null> {
    const record = this.#state.read(this.#state.families, familyId);
    return record === undefined ? null : copyFamily(record.family);
  }

  async rotate(input: RotateFamilyInput): Promise<RotateResult> {
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
      return {
        status: 'rotated',
        family: copyFamily(rotated),
        session: session === null ? null : copySession(session),
      };
    }
    if (
      previous &&
      record.rotatedAt !== null &&
      record.childBlob !== null &&
      now - record.rotatedAt <= input.graceMs
    ) {
      return {
        status: 'grace',
        family: copyFamily(family),
        childBlob: record.childBlob,
        session: session === null ? null : copySession(session),
      };
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

  async revokeWithToken(input: RevokeWithTokenInput): Promise<RefreshFamily | null> {
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
