import { InvalidArgumentError } from '../../core/errors.js';
import { assertUserId } from '../../core/ids.js';
import type { RefreshFamilyStore, RotateResult } from '../../core/ports.js';
import type { RefreshFamily } from '../../core/types.js';
import { arg, type RedisStoreContext, replyArray, replyString, unexpectedReply } from './context.js';
import { decodeSession } from './records.js';
import { SCRIPTS } from './scripts.js';
import { familyCreate } from './scripts/family_create.js';
import { familyRotate } from './scripts/family_rotate.js';
import { indexRevokedFamily } from './token-blacklist.js';
import {
  assertFiniteNumber,
  assertNonEmptyString,
  assertTtlSeconds,
  assertUserScoped,
  ttlMs,
} from './validate.js';

/** The reason recorded on a family revoked because one of its tokens was presented twice. */
export const REUSE_REASON = 'token_reuse_detected';
/** The reason reported (not written) for a family revoked by the user's watermark. */
const WATERMARK_REASON = 'user_revoked';

/** A family from its HASH fields, or `null` when absent or expired at `now`. */
function decodeFamily(
  familyId: string,
  f: Record<string, string | undefined>,
  now: number,
): RefreshFamily | null {
  const expiresAt = Number(f.expiresAt);
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return null;
  return {
    familyId,
    userId: f.userId ?? '',
    sessionId: f.sessionId ?? '',
    generation: Number(f.gen ?? 0),
    createdAt: Number(f.createdAt ?? 0),
    expiresAt,
    revoked: f.revoked === '1',
    revokedReason: f.reason ?? null,
    claims: f.claims ?? null,
    userGeneration: f.ugen === undefined ? null : Number(f.ugen),
  };
}

/**
 * The family as the scripts return it (`family_rotate.lua`, `family_revoke_token.lua`): userId,
 * sessionId, gen, createdAt, expiresAt, revoked, reason, claims, ugen.
 */
function decodeView(familyId: string, view: unknown): RefreshFamily {
  const [userId, sessionId, gen, createdAt, expiresAt, revoked, reason, claims, ugen] = replyArray(
    view,
    'family view',
  ).map(replyString);
  return {
    familyId,
    userId: userId ?? '',
    sessionId: sessionId ?? '',
    generation: Number(gen ?? 0),
    createdAt: Number(createdAt ?? 0),
    expiresAt: Number(expiresAt ?? 0),
    revoked: revoked === '1',
    revokedReason: reason ?? null,
    claims: claims ?? null,
    userGeneration: ugen === null || ugen === undefined ? null : Number(ugen),
  };
}

/**
 * `RefreshFamilyStore` on Redis: `token:family:{tag}.<rest>` HASH with fields `userId sessionId
 * cur prev rotatedAt child gen createdAt expiresAt revoked reason` (`cur`/`prev` are SHA-256 hashes
 * of refresh secrets, never the secrets). The family id carries its user's tag, so the family, its
 * session, the user's indexes and watermark share one slot and `rotate` is one script.
 */
export class RedisRefreshFamilies implements RefreshFamilyStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async create(input: {
    familyId: string;
    userId: string;
    sessionId: string;
    tokenHash: string;
    ttlSeconds: number;
    claims?: string | null;
  }): Promise<RefreshFamily> {
    this.#ctx.ids.parse('familyId', input.familyId);
    assertUserId(input.userId);
    this.#ctx.ids.parse('sessionId', input.sessionId);
    assertUserScoped(this.#ctx.ids, 'familyId', input.familyId, input.userId);
    assertUserScoped(this.#ctx.ids, 'sessionId', input.sessionId, input.userId);
    assertNonEmptyString('tokenHash', input.tokenHash);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    const claims = input.claims ?? null;
    if (claims !== null && typeof claims !== 'string')
      throw new InvalidArgumentError('claims', 'must be a string');
    const { client, keys, clock } = this.#ctx;
    const key = keys.family(input.familyId);
    const now = clock.now();
    const px = ttlMs(input.ttlSeconds);
    const userGeneration = await familyCreate(client.runScript.bind(client), {
      familyKey: key,
      watermarkKey: keys.userWatermark(input.userId),
      now,
      ttlMs: px,
      userId: input.userId,
      sessionId: input.sessionId,
      tokenHash: input.tokenHash,
      claims,
    });
    // Re-creating would un-revoke a revoked family or restart a rotated one.
    if (userGeneration === null) throw new InvalidArgumentError('familyId', 'already exists');
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
      userGeneration,
    };
    return family;
  }

  async get(familyId: string): Promise<RefreshFamily | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.family(familyId);
    return decodeFamily(
      familyId,
      await client.wrap('hGetAll', () => client.commands.hGetAll(key)),
      clock.now(),
    );
  }

  async rotate(input: {
    familyId: string;
    presentedHash: string;
    nextHash: string;
    childBlob: string;
    graceMs: number;
    owner?: { userId: string; sessionId: string };
  }): Promise<RotateResult> {
    this.#ctx.ids.parse('familyId', input.familyId);
    assertNonEmptyString('presentedHash', input.presentedHash);
    assertNonEmptyString('nextHash', input.nextHash);
    if (typeof input.childBlob !== 'string') throw new InvalidArgumentError('childBlob', 'must be a string');
    assertFiniteNumber('graceMs', input.graceMs);
    if (input.graceMs < 0) throw new InvalidArgumentError('graceMs', 'must not be negative');
    const { client, keys, clock } = this.#ctx;
    const familyKey = keys.family(input.familyId);

    // Step 1: learn the family's user and session (the script's other KEYS): from the caller,
    // who has just read them, or by reading the family. Unknown and expired families end here. A
    // revoked one does not: the script checks the presented secret before it says anything about
    // the family (no revoked/invalid oracle).
    let owner = input.owner;
    if (owner === undefined) {
      const fields = await client.wrap('hGetAll', () => client.commands.hGetAll(familyKey));
      const read = decodeFamily(input.familyId, fields, clock.now());
      if (read === null) return { status: 'not_found' };
      owner = { userId: read.userId, sessionId: read.sessionId };
    }
    let sessionKeys: { recordKey: string; userIndexKey: string; watermarkKey: string };
    try {
      // One slot: a session or user of another tag than the family's cannot be its owner.
      assertUserScoped(this.#ctx.ids, 'familyId', input.familyId, owner.userId);
      assertUserScoped(this.#ctx.ids, 'sessionId', owner.sessionId, owner.userId);
      sessionKeys = {
        recordKey: keys.session(owner.sessionId),
        userIndexKey: keys.userSessionsOf(owner.sessionId),
        watermarkKey: keys.userWatermark(owner.userId),
      };
    } catch {
      // A tombstone (revoked while unknown: no owner, no tokens) or a record this store did not
      // write: no presented hash was ever one of its tokens. A named owner that cannot be the
      // family's: not this family.
      return { status: input.owner === undefined ? 'invalid' : 'not_found' };
    }

    // Step 2: the compare-and-set over family, session, user index and watermark (one slot).
    const now = clock.now();
    const reply = await familyRotate(client.runScript.bind(client), {
      familyKey,
      ...sessionKeys,
      now,
      userId: owner.userId,
      sessionId: owner.sessionId,
      presentedHash: input.presentedHash,
      nextHash: input.nextHash,
      childBlob: input.childBlob,
      graceMs: input.graceMs,
      reuseReason: REUSE_REASON,
    });
    const [status, view, extra] = reply;
    switch (status) {
      case 'not_found':
      case 'stale':
        return { status: 'not_found' };
      case 'revoked':
        return { status: 'revoked', family: decodeView(input.familyId, view) };
      case 'user_revoked': {
        // Reported, not written: the user's generation already revokes every token of the family.
        const family = decodeView(input.familyId, view);
        return { status: 'revoked', family: { ...family, revoked: true, revokedReason: WATERMARK_REASON } };
      }
      case 'invalid':
        return { status: 'invalid' };
      case 'session_ended':
        return { status: 'session_ended', family: decodeView(input.familyId, view) };
      case 'rotated':
        return { status: 'rotated', family: decodeView(input.familyId, view) };
      case 'grace':
        return {
          status: 'grace',
          family: decodeView(input.familyId, view),
          childBlob: replyString(extra) ?? '',
        };
      case 'reused': {
        const family = decodeView(input.familyId, view);
        const sessionEnded = decodeSession(owner.sessionId, replyString(extra));
        // Step 3 (other slots): index the revoked family; drop the ended session's device entry.
        // Both are secondary: the family hash and the user index already say it all.
        await Promise.all([
          indexRevokedFamily(this.#ctx, input.familyId, family.expiresAt, now),
          sessionEnded?.deviceId ? this.#deviceRemove(sessionEnded.deviceId, sessionEnded.sessionId) : null,
        ]);
        return { status: 'reused', family, sessionEnded };
      }
      default:
        throw unexpectedReply('family_rotate', reply);
    }
  }

  async revokeWithToken(input: {
    familyId: string;
    presentedHash: string;
    reason: string;
  }): Promise<RefreshFamily | null> {
    this.#ctx.ids.parse('familyId', input.familyId);
    assertNonEmptyString('presentedHash', input.presentedHash);
    assertNonEmptyString('reason', input.reason);
    const { client, keys, clock } = this.#ctx;
    const key = keys.family(input.familyId);
    const now = clock.now();
    const view = await client.runScript(
      SCRIPTS.family_revoke_token,
      [key],
      [arg(now), input.presentedHash, input.reason],
    );
    if (view === null) return null;
    const family = decodeView(input.familyId, view);
    // Second step (its own slot): the revoked-family index serves stats and cleanup only.
    await indexRevokedFamily(this.#ctx, input.familyId, family.expiresAt, now);
    return family;
  }

  #deviceRemove(deviceId: string, sessionId: string): Promise<number> | null {
    const { client, keys } = this.#ctx;
    let index: string;
    try {
      index = keys.deviceSessions(deviceId);
    } catch {
      return null;
    }
    return client.wrap('zRem', () => client.commands.zRem(index, sessionId));
  }
}
