import { ttlMs } from '../../core/limits.js';
import type {
  BlacklistAllUserTokensInput,
  BlacklistTokenFamilyInput,
  BlacklistTokenInput,
  GuideTokenBlacklist,
  RevokeUserTokensBeforeInput,
} from '../../core/ports.js';
import type { BlacklistEntry } from '../../core/types.js';
import { INDEX_TTL_SLACK_MS, pruneIndex, type RedisStoreContext } from './context.js';
import {
  decodeBlacklistEntry,
  decodeUserGeneration,
  decodeWatermark,
  encodeBlacklistEntry,
} from './records.js';
import { blacklistSet } from './lua/blacklist_set.js';
import { familyRevoke } from './lua/family_revoke.js';
import { indexAdd } from './lua/index_add.js';
import { watermarkRaise } from './lua/watermark_raise.js';

/** Bound of `token:blacklist_index`: the entries expiring soonest leave it first. */
export const BLACKLIST_INDEX_MAX = 1_000_000;

/**
 * `TokenBlacklist` on Redis.
 *
 * - `token:blacklist:<jti>` STRING JSON `{userId, reason, revokedAt, expiresAt}`, `PX` = the
 *   token's remaining life; `token:blacklist_index` ZSET jti → expiresAt (stats and cleanup only,
 *   pruned and bounded on write). The entry is the truth; the index trails it by one command.
 * - Families: `token:family:{tag}.<rest>` HASH, `revoked`/`reason` fields, plus
 *   `token:revoked_families` ZSET familyId → expiry.
 * - `user:revoked_before:{tag}` STRING JSON `{beforeMs, expiresAt, gen}`: the O(1) revoke-all
 *   record (the user's generation, and the legacy time watermark).
 *
 * Reads compare the stored `expiresAt` with the injected clock, so a `ManualClock` expires entries
 * exactly as Redis's TTL does in production. Arguments are checked by `CheckedTokenBlacklist`
 * (`core/checked/`) before they get here.
 */
export class RedisTokenBlacklist implements GuideTokenBlacklist {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async blacklistToken(input: BlacklistTokenInput): Promise<void> {
    const now = this.#ctx.clock.now();
    await this.#write([input.jti], input.userId ?? null, input.reason, input.ttlSeconds, now);
  }

  async isBlacklisted(jti: string): Promise<boolean> {
    return (await this.getEntry(jti)) !== null;
  }

  async getEntry(jti: string): Promise<BlacklistEntry | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.blacklist(jti);
    const json = await client.wrap('get', () => client.commands.get(key));
    const entry = decodeBlacklistEntry(jti, json);
    return entry !== null && entry.expiresAt > clock.now() ? entry : null;
  }

  async blacklistAllUserTokens(input: BlacklistAllUserTokensInput): Promise<number> {
    const jtis = [...new Set(input.tokenJtis)];
    await this.#write(jtis, input.userId, input.reason, input.ttlSeconds, this.#ctx.clock.now());
    return jtis.length;
  }

  async blacklistTokenFamily(input: BlacklistTokenFamilyInput): Promise<void> {
    await revokeFamily(this.#ctx, input.familyId, ttlMs(input.ttlSeconds), input.reason);
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.family(familyId);
    const family = await client.wrap('hGetAll', () => client.commands.hGetAll(key));
    return family.revoked === '1' && Number(family.expiresAt) > clock.now();
  }

  async revokeUserTokensBefore(input: RevokeUserTokensBeforeInput): Promise<void> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.userWatermark(input.userId);
    // Only moves forward (compared and written in one script): a late call cannot un-revoke. The
    // generation is the previous one + 1 (this clock only seeds a forgotten one).
    await watermarkRaise(client.runScript.bind(client), {
      watermarkKey: key,
      now: clock.now(),
      beforeMs: input.beforeMs,
      ttlMs: ttlMs(input.ttlSeconds),
    });
  }

  async getUserWatermark(userId: string): Promise<number | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.userWatermark(userId);
    return decodeWatermark(await client.wrap('get', () => client.commands.get(key)), clock.now());
  }

  async getUserGeneration(userId: string): Promise<number> {
    const { client, keys } = this.#ctx;
    const key = keys.userWatermark(userId);
    return decodeUserGeneration(await client.wrap('get', () => client.commands.get(key)));
  }

  async cleanupExpired(): Promise<number> {
    return (await cleanupTokenIndexes(this.#ctx)).removed;
  }

  /**
   * Writes the entries (each jti on its own slot: in parallel, which node-redis pipelines), then
   * indexes them. A crash before the index write leaves entries that still work, unindexed until
   * they expire (the index serves stats and cleanup only).
   */
  async #write(
    jtis: readonly string[],
    userId: string | null,
    reason: string,
    ttlSeconds: number,
    now: number,
  ) {
    const { client, keys } = this.#ctx;
    const px = ttlMs(ttlSeconds);
    const expiresAt = now + px;
    // blacklist_set.lua keeps a live entry that already lasts longer: never shortened.
    const written = await Promise.all(
      jtis.map((jti) => {
        const json = encodeBlacklistEntry({ jti, userId, reason, revokedAt: now, expiresAt });
        return blacklistSet(client.runScript.bind(client), {
          entryKey: keys.blacklist(jti),
          entryJson: json,
          expiresAt,
          now,
          ttlMs: px,
        });
      }),
    );
    const indexed = jtis.filter((_, i) => written[i] === true);
    if (indexed.length === 0) return;
    await indexAdd(client.runScript.bind(client), {
      indexKey: keys.blacklistIndex(),
      now,
      pruneAtOrBelow: now,
      maxMembers: BLACKLIST_INDEX_MAX,
      indexTtlSlackMs: INDEX_TTL_SLACK_MS,
      entries: indexed.map((jti) => [expiresAt, jti] as const),
    });
  }
}

/**
 * Marks a family revoked for at least `px` ms (a tombstone when unknown) in one script, then
 * indexes it in `token:revoked_families`. Shared with the refresh-family store's reuse path.
 */
export async function revokeFamily(
  ctx: RedisStoreContext,
  familyId: string,
  px: number,
  reason: string,
): Promise<void> {
  const { client, keys, clock } = ctx;
  const key = keys.family(familyId);
  const now = clock.now();
  const expiresAt = await familyRevoke(client.runScript.bind(client), {
    familyKey: key,
    markKey: keys.familyRevoked(familyId),
    now,
    ttlMs: px,
    reason,
  });
  await indexRevokedFamily(ctx, familyId, expiresAt, now);
}

/** Adds a revoked family to `token:revoked_families` (its own slot; second step after the revoke). */
export function indexRevokedFamily(ctx: RedisStoreContext, familyId: string, expiresAt: number, now: number) {
  const { client, keys } = ctx;
  return indexAdd(client.runScript.bind(client), {
    indexKey: keys.revokedFamilies(),
    now,
    pruneAtOrBelow: now,
    maxMembers: 0,
    indexTtlSlackMs: INDEX_TTL_SLACK_MS,
    entries: [[expiresAt, familyId]],
  });
}

/**
 * Prunes `token:blacklist_index` and `token:revoked_families` of members whose record has expired
 * (their score is the record's expiry), and revoked-family members whose family is gone or no
 * longer revoked. Returns the members removed and the members looked at.
 */
export async function cleanupTokenIndexes(
  ctx: RedisStoreContext,
): Promise<{ removed: number; scanned: number }> {
  const { client, keys, clock } = ctx;
  const now = clock.now();
  const blacklistIndex = keys.blacklistIndex();
  const revokedIndex = keys.revokedFamilies();
  const [blacklistSize, revokedSize] = await Promise.all([
    client.wrap('zCard', () => client.commands.zCard(blacklistIndex)),
    client.wrap('zCard', () => client.commands.zCard(revokedIndex)),
  ]);
  // Bounded steps: one ZREMRANGEBYSCORE over a million expired members blocked Redis for 300 ms.
  let removed = await pruneIndex(ctx, blacklistIndex, now);
  removed += await pruneIndex(ctx, revokedIndex, now);

  // The revoked-family index is small (families are revoked rarely): check each member's record.
  const BATCH = 500;
  let offset = 0;
  for (;;) {
    const members = await client.wrap('zRange', () =>
      client.commands.zRange(revokedIndex, offset, offset + BATCH - 1),
    );
    if (members.length === 0) break;
    const stale = await Promise.all(
      members.map(async (familyId) => {
        let key: string;
        try {
          key = keys.family(familyId);
        } catch {
          return true;
        }
        const [revoked, expiresAt] = await Promise.all([
          client.wrap('hGet', () => client.commands.hGet(key, 'revoked')),
          client.wrap('hGet', () => client.commands.hGet(key, 'expiresAt')),
        ]);
        return revoked !== '1' || !(Number(expiresAt) > now);
      }),
    );
    const toRemove = members.filter((_, i) => stale[i]);
    const removedHere =
      toRemove.length === 0
        ? 0
        : await client.wrap('zRem', () => client.commands.zRem(revokedIndex, toRemove));
    removed += removedHere;
    if (members.length < BATCH) break;
    offset += members.length - removedHere;
  }
  return { removed, scanned: blacklistSize + revokedSize };
}
