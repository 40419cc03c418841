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
import { type RedisStoreContext, replyArray, replyString, unexpectedReply } from './context.js';
import { decodeSession } from './records.js';
import { familyCreate } from './lua/family_create.js';
import { familyDropDelete, familyDropFind } from './lua/family_drop.js';
import { familyRevokeToken } from './lua/family_revoke_token.js';
import { familyRotate } from './lua/family_rotate.js';
import { assertUserScoped } from '../../core/validate.js';
import { indexRevokedFamily } from './token-blacklist.js';
/**
 * Deletes the refresh families of the user's ended sessions (`family_drop.lua`). `owner`: the user,
 * or any of their session ids (live or not: only its tag is used). `known`: ids already found
 * (skips the first call). Returns how many were deleted. Called after every step that ends
 * sessions, so a user holds at most the families of their live sessions.
 */
export async function dropEndedFamilies(
  ctx: RedisStoreContext,
  owner: { userId: string } | { sessionId: string },
  known?: readonly string[],
): Promise<number> {
  const { client, keys, clock } = ctx;
  const indexes =
    'userId' in owner
      ? [keys.userFamilies(owner.userId), keys.userSessions(owner.userId)]
      : [keys.userFamiliesOf(owner.sessionId), keys.userSessionsOf(owner.sessionId)];
  const run = client.runScript.bind(client);
  const [userFamiliesKey, userSessionsKey] = indexes as [string, string];
  const ids = known ?? (await familyDropFind(run, { userFamiliesKey, userSessionsKey, now: clock.now() }));
  // Only ids of this user's slot (the index is written by family_create alone, with checked ids).
  const tag = indexes[0]!.slice(indexes[0]!.lastIndexOf('{'));
  const familyIds = ids.filter((id) => {
    try {
      return keys.family(id).includes(`${tag}.`);
    } catch {
      return false;
    }
  });
  if (familyIds.length === 0) return 0;
  const dropped = await familyDropDelete(run, {
    userFamiliesKey,
    userSessionsKey,
    now: clock.now(),
    families: familyIds.map((familyId) => ({ familyId, key: keys.family(familyId) })),
  });
  // Their members in the revoked-family index (its own slot) go too, rather than at cleanup.
  if (dropped > 0) {
    const revokedIndex = keys.revokedFamilies();
    await client.wrap('zRem', () => client.commands.zRem(revokedIndex, familyIds));
  }
  return dropped;
}

/** The reason reported (not written) for a family revoked by the user's watermark. */
const WATERMARK_REASON = 'user_revoked';

/**
 * The fields a family is read by (`HMGET`): not the secrets' hashes (`cur`, `prev`, the ring
 * `r0..r31`) nor the sealed child, which are most of the HASH's bytes and only the scripts use.
 */
const FAMILY_FIELDS = [
  'userId',
  'sessionId',
  'gen',
  'createdAt',
  'expiresAt',
  'revoked',
  'reason',
  'claims',
  'ugen',
] as const;

/** `HMGET` of `FAMILY_FIELDS`, as an object of the present fields. */
async function readFamilyFields(
  ctx: RedisStoreContext,
  key: string,
): Promise<Record<string, string | undefined>> {
  const { client } = ctx;
  const values = await client.wrap('hmGet', () => client.commands.hmGet(key, [...FAMILY_FIELDS]));
  const fields: Record<string, string | undefined> = {};
  FAMILY_FIELDS.forEach((name, i) => {
    const v = values[i];
    if (v !== null && v !== undefined) fields[name] = v;
  });
  return fields;
}

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
 * Arguments are checked by `CheckedRefreshFamilies` (`core/checked/`) before they get here.
 */
export class RedisRefreshFamilies implements RefreshFamilyStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async create(input: CreateFamilyInput): Promise<RefreshFamily> {
    const claims = input.claims ?? null;
    const { client, keys, clock } = this.#ctx;
    const key = keys.family(input.familyId);
    const now = clock.now();
    const px = ttlMs(input.ttlSeconds);
    const created = await familyCreate(client.runScript.bind(client), {
      familyKey: key,
      watermarkKey: keys.userWatermark(input.userId),
      userFamiliesKey: keys.userFamilies(input.userId),
      userSessionsKey: keys.userSessions(input.userId),
      sessionKey: keys.session(input.sessionId),
      familyId: input.familyId,
      now,
      ttlMs: px,
      userId: input.userId,
      sessionId: input.sessionId,
      tokenHash: input.tokenHash,
      claims,
    });
    // Re-creating would un-revoke a revoked family or restart a rotated one.
    if (created === null) throw new InvalidArgumentError('familyId', 'already exists');
    const { userGeneration, expiresAt, ended } = created;
    // The families of the user's ended sessions go (the script could not declare their keys).
    if (ended.length > 0) await dropEndedFamilies(this.#ctx, { userId: input.userId }, ended);
    const family: RefreshFamily = {
      familyId: input.familyId,
      userId: input.userId,
      sessionId: input.sessionId,
      generation: 0,
      createdAt: now,
      expiresAt,
      revoked: false,
      revokedReason: null,
      claims,
      userGeneration,
    };
    return family;
  }

  async get(familyId: string): Promise<RefreshFamily | null> {
    const { keys, clock } = this.#ctx;
    const key = keys.family(familyId);
    return decodeFamily(familyId, await readFamilyFields(this.#ctx, key), clock.now());
  }

  async rotate(input: RotateFamilyInput): Promise<RotateResult> {
    const { client, keys, clock } = this.#ctx;
    const familyKey = keys.family(input.familyId);

    // Step 1: learn the family's user and session (the script's other KEYS): from the caller,
    // who has just read them, or by reading the family. Unknown and expired families end here. A
    // revoked one does not: the script checks the presented secret before it says anything about
    // the family (no revoked/invalid oracle).
    let owner = input.owner;
    if (owner === undefined) {
      const fields = await readFamilyFields(this.#ctx, familyKey);
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
    const markKey = keys.familyRevoked(input.familyId);
    // Locally invalidated at once: the family, the one key every rotation writes. The session
    // record, the user index and the family's revocation mark are written only by reuse (or by a
    // script that failed half-way): invalidated then, below. Invalidating them at every rotation
    // dropped this instance's cached session, and made its watch count the mark as heard (a
    // first sight of the family's next token read Redis, and 50,000 rotations moved `since`).
    const reuseKeys = [sessionKeys.recordKey, sessionKeys.userIndexKey, markKey];
    let reply: Awaited<ReturnType<typeof familyRotate>>;
    try {
      reply = await familyRotate((script, k, a) => client.runScript(script, k, a, [familyKey]), {
        familyKey,
        ...sessionKeys,
        markKey,
        now,
        userId: owner.userId,
        sessionId: owner.sessionId,
        presentedHash: input.presentedHash,
        nextHash: input.nextHash,
        childBlob: input.childBlob,
        graceMs: input.graceMs,
        reuseReason: REUSE_REASON,
      });
    } catch (err) {
      client.tracking?.invalidateLocal(reuseKeys);
      throw err;
    }
    const [status, view, extra, graceSession] = reply;
    if (status === 'reused') client.tracking?.invalidateLocal(reuseKeys);
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
        return {
          status: 'rotated',
          family: decodeView(input.familyId, view),
          session: decodeSession(owner.sessionId, replyString(extra)),
        };
      case 'grace':
        return {
          status: 'grace',
          family: decodeView(input.familyId, view),
          childBlob: replyString(extra) ?? '',
          session: decodeSession(owner.sessionId, replyString(graceSession)),
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

  async revokeWithToken(input: RevokeWithTokenInput): Promise<RefreshFamily | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.family(input.familyId);
    const now = clock.now();
    const view = await familyRevokeToken(client.runScript.bind(client), {
      familyKey: key,
      markKey: keys.familyRevoked(input.familyId),
      now,
      presentedHash: input.presentedHash,
      reason: input.reason,
    });
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
