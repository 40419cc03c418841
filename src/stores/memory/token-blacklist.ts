import { ttlMs } from '../../core/limits.js';
import type {
  BlacklistAllUserTokensInput,
  BlacklistTokenFamilyInput,
  BlacklistTokenInput,
  GuideTokenBlacklist,
  RevokeUserTokensBeforeInput,
} from '../../core/ports.js';
import type { BlacklistEntry, RefreshFamily } from '../../core/types.js';
import type { MemoryState } from './state.js';

/**
 * In-memory `TokenBlacklist`: entries, revoked families and watermarks in the shared state.
 * Arguments are checked by `CheckedTokenBlacklist` (`core/checked/`) before they get here.
 */
export class MemoryTokenBlacklist implements GuideTokenBlacklist {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async blacklistToken(input: BlacklistTokenInput): Promise<void> {
    this.#write(input.jti, input.userId ?? null, input.reason, input.ttlSeconds, this.#state.now());
  }

  async isBlacklisted(jti: string): Promise<boolean> {
    return this.#state.read(this.#state.blacklist, jti) !== undefined;
  }

  async getEntry(jti: string): Promise<BlacklistEntry | null> {
    const entry = this.#state.read(this.#state.blacklist, jti);
    return entry === undefined ? null : { ...entry };
  }

  async blacklistAllUserTokens(input: BlacklistAllUserTokensInput): Promise<number> {
    const now = this.#state.now();
    const jtis = new Set(input.tokenJtis);
    for (const jti of jtis) this.#write(jti, input.userId, input.reason, input.ttlSeconds, now);
    return jtis.size;
  }

  async blacklistTokenFamily(input: BlacklistTokenFamilyInput): Promise<void> {
    const state = this.#state;
    const now = state.now();
    const until = now + ttlMs(input.ttlSeconds);
    const record = state.read(state.families, input.familyId, now);
    let family: RefreshFamily;
    let expiresAt: number;
    if (record === undefined) {
      // A tombstone: the family is unknown here (expired, or created elsewhere), but every token
      // that names it must still be refused.
      expiresAt = until;
      family = {
        familyId: input.familyId,
        userId: '',
        sessionId: '',
        generation: 0,
        createdAt: now,
        expiresAt,
        revoked: true,
        revokedReason: input.reason,
        claims: null,
        userGeneration: null,
      };
      state.families.set(input.familyId, {
        value: {
          family,
          currentHash: null,
          previousHash: null,
          rotatedAt: null,
          childBlob: null,
          history: [],
        },
        expiresAt,
      });
    } else {
      // Revoked for at least `ttlSeconds`; never shortens the life of the family record.
      expiresAt = Math.max(record.family.expiresAt, until);
      family = { ...record.family, revoked: true, revokedReason: input.reason, expiresAt };
      state.families.set(input.familyId, { value: { ...record, family }, expiresAt });
    }
    pruneIndexHead(state.revokedFamilies, now);
    state.revokedFamilies.delete(input.familyId);
    state.revokedFamilies.set(input.familyId, expiresAt);
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return this.#state.read(this.#state.families, familyId)?.family.revoked === true;
  }

  async revokeUserTokensBefore(input: RevokeUserTokensBeforeInput): Promise<void> {
    const state = this.#state;
    const now = state.now();
    const current = state.read(state.watermarks, input.userId, now);
    const previousExpiry = current === undefined ? 0 : state.watermarks.get(input.userId)!.expiresAt;
    state.watermarks.set(input.userId, {
      value: {
        // Only moves forward: a late or replayed call cannot un-revoke tokens.
        beforeMs: current === undefined ? input.beforeMs : Math.max(current.beforeMs, input.beforeMs),
        // As watermark_raise.lua: above the previous generation, and (seeded by the clock) above
        // any generation a forgotten record can have held.
        gen: Math.max((current?.gen ?? 0) + 1, now),
      },
      expiresAt: Math.max(previousExpiry, now + ttlMs(input.ttlSeconds)),
    });
  }

  async getUserGeneration(userId: string): Promise<number> {
    return this.#state.userGeneration(userId);
  }

  async getUserWatermark(userId: string): Promise<number | null> {
    return this.#state.watermark(userId);
  }

  async cleanupExpired(): Promise<number> {
    return cleanupTokenIndexes(this.#state).removed;
  }

  #write(jti: string, userId: string | null, reason: string, ttlSeconds: number, now: number): void {
    const expiresAt = now + ttlMs(ttlSeconds);
    // Never shortened: a live entry that already lasts as long is kept as it is.
    const current = this.#state.read(this.#state.blacklist, jti, now);
    if (current !== undefined && current.expiresAt >= expiresAt) return;
    this.#state.blacklist.set(jti, { value: { jti, userId, reason, revokedAt: now, expiresAt }, expiresAt });
    pruneIndexHead(this.#state.blacklistIndex, now);
    this.#state.blacklistIndex.delete(jti);
    this.#state.blacklistIndex.set(jti, expiresAt);
  }
}

/**
 * Prune on write, as Redis does with `ZREMRANGEBYSCORE`: drops the expired members at the head of
 * an index (a `Map` keeps insertion order, and entries written with one TTL expire in that
 * order), stopping at the first live one, so a write costs O(1) amortized. What this leaves
 * behind (an entry with a short TTL behind a long one) goes at the next `cleanupExpired`.
 */
export function pruneIndexHead(index: Map<string, number>, now: number): void {
  for (const [member, expiresAt] of index) {
    if (expiresAt > now) return;
    index.delete(member);
  }
}

/**
 * Prunes the blacklist index and the revoked-family index of members whose record has expired,
 * and drops expired watermarks. Returns the index members removed and the members looked at.
 */
export function cleanupTokenIndexes(state: MemoryState): { removed: number; scanned: number } {
  const now = state.now();
  let removed = 0;
  let scanned = 0;
  for (const [jti, expiresAt] of state.blacklistIndex) {
    scanned++;
    if (expiresAt <= now || state.read(state.blacklist, jti, now) === undefined) {
      state.blacklistIndex.delete(jti);
      removed++;
    }
  }
  for (const [familyId, expiresAt] of state.revokedFamilies) {
    scanned++;
    const record = state.read(state.families, familyId, now);
    if (expiresAt <= now || record === undefined || !record.family.revoked) {
      state.revokedFamilies.delete(familyId);
      removed++;
    }
  }
  for (const userId of [...state.watermarks.keys()]) state.read(state.watermarks, userId, now);
  return { removed, scanned };
}
