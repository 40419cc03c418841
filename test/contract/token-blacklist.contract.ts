import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newUserScopedId } from '../../src/core/ids.js';
import { uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import {
  assertExpires,
  assertRejectsAll,
  BAD_IDS,
  BAD_USER_IDS,
  BAD_TTLS,
  badScopedIds,
  type MakeStores,
  newTokenHash,
  now,
  setupFamily,
  withStores,
} from './harness.js';

/** `TokenBlacklist`: access-token entries, family revocation and the per-user watermark. */
export function tokenBlacklistContract(name: string, makeStores: MakeStores): void {
  describe(`TokenBlacklist contract (${name})`, () => {
    it('blacklistToken records an entry that isBlacklisted and getEntry see', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const jti = uniqueJti();
        const userId = uniqueUserId();
        const before = now(ctx);
        await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 900, userId, reason: 'user_logout' });
        const after = now(ctx);
        assert.equal(await tokenBlacklist.isBlacklisted(jti), true);
        const entry = await tokenBlacklist.getEntry(jti);
        assert.ok(entry);
        assert.equal(entry.jti, jti);
        assert.equal(entry.userId, userId);
        assert.equal(entry.reason, 'user_logout');
        assert.ok(entry.revokedAt >= before && entry.revokedAt <= after, 'revokedAt is the time of the call');
        assert.equal(entry.expiresAt - entry.revokedAt, 900_000, 'expiresAt is revokedAt + ttlSeconds');
      }));

    it('an entry without a userId keeps userId null', () =>
      withStores(makeStores, async (ctx) => {
        const jti = uniqueJti();
        await ctx.stores.tokenBlacklist.blacklistToken({ jti, ttlSeconds: 60, reason: 'security_concern' });
        assert.equal((await ctx.stores.tokenBlacklist.getEntry(jti))?.userId, null);
        const jti2 = uniqueJti();
        await ctx.stores.tokenBlacklist.blacklistToken({
          jti: jti2,
          ttlSeconds: 60,
          userId: null,
          reason: 'x',
        });
        assert.equal((await ctx.stores.tokenBlacklist.getEntry(jti2))?.userId, null);
      }));

    it('an unknown jti is not blacklisted and has no entry', () =>
      withStores(makeStores, async (ctx) => {
        assert.equal(await ctx.stores.tokenBlacklist.isBlacklisted(uniqueJti()), false);
        assert.equal(await ctx.stores.tokenBlacklist.getEntry(uniqueJti()), null);
      }));

    it('blacklisting a jti again never shortens its revocation; a longer TTL extends it', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const jti = uniqueJti();
        await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 3600, reason: 'logout' });
        const first = await tokenBlacklist.getEntry(jti);
        await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 1, reason: 'again' });
        assert.deepEqual(await tokenBlacklist.getEntry(jti), first, 'the longer entry was kept as it was');
        await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 7200, reason: 'longer' });
        const extended = await tokenBlacklist.getEntry(jti);
        assert.equal(extended?.reason, 'longer');
        assert.ok(extended!.expiresAt > first!.expiresAt);
      }));

    it('an entry expires after ttlSeconds', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const jti = uniqueJti();
        const writtenAt = Date.now();
        await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 1, reason: 'user_logout' });
        await assertExpires(ctx, 1000, () => tokenBlacklist.isBlacklisted(jti), 'blacklist entry', writtenAt);
        assert.equal(await tokenBlacklist.getEntry(jti), null);
      }));

    it('blacklistAllUserTokens writes every jti and returns how many were written', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const userId = uniqueUserId();
        const jtis = [uniqueJti(), uniqueJti(), uniqueJti()];
        const written = await tokenBlacklist.blacklistAllUserTokens({
          userId,
          tokenJtis: jtis,
          ttlSeconds: 3600,
          reason: 'user_logout_all',
        });
        assert.equal(written, 3);
        for (const jti of jtis) {
          assert.equal(await tokenBlacklist.isBlacklisted(jti), true);
          const entry = await tokenBlacklist.getEntry(jti);
          assert.equal(entry?.userId, userId);
          assert.equal(entry?.reason, 'user_logout_all');
        }
        assert.equal(
          await tokenBlacklist.blacklistAllUserTokens({ userId, tokenJtis: [], ttlSeconds: 60, reason: 'x' }),
          0,
        );
      }));

    it('blacklistAllUserTokens with one bad jti writes none of them', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const good = [uniqueJti(), uniqueJti()];
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (bad) =>
            tokenBlacklist.blacklistAllUserTokens({
              userId: uniqueUserId(),
              tokenJtis: [good[0]!, bad, good[1]!],
              ttlSeconds: 60,
              reason: 'x',
            }),
          'blacklistAllUserTokens',
        );
        for (const jti of good) assert.equal(await tokenBlacklist.isBlacklisted(jti), false);
      }));

    it('blacklistTokenFamily on an unknown family creates a revoked tombstone', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist, refreshFamilies } = ctx.stores;
        const tombUser = uniqueUserId();
        const familyId = newUserScopedId(tombUser);
        assert.equal(await tokenBlacklist.isFamilyRevoked(familyId), false);
        await tokenBlacklist.blacklistTokenFamily({
          familyId,
          ttlSeconds: 3600,
          reason: 'token_reuse_detected',
        });
        assert.equal(await tokenBlacklist.isFamilyRevoked(familyId), true);
        const result = await refreshFamilies.rotate({
          familyId,
          presentedHash: newTokenHash(),
          nextHash: newTokenHash(),
          childBlob: 'child',
          graceMs: 10_000,
        });
        // A tombstone has no tokens: any presented hash is one it never had (nothing is revealed).
        assert.deepEqual(result, { status: 'invalid' }, 'a token of a tombstoned family is refused');
        assert.equal(
          await ctx.stores.revocation.check({
            jti: uniqueJti(),
            userId: tombUser,
            issuedAtMs: now(ctx),
            familyId,
          }),
          'family_revoked',
        );
      }));

    it('blacklistTokenFamily revokes a known family: rotate and revocation checks refuse it', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist, refreshFamilies, revocation } = ctx.stores;
        const userId = uniqueUserId();
        const { family, tokenHash, session } = await setupFamily(ctx, userId);
        assert.equal(await tokenBlacklist.isFamilyRevoked(family.familyId), false);
        await tokenBlacklist.blacklistTokenFamily({
          familyId: family.familyId,
          ttlSeconds: 3600,
          reason: 'admin',
        });
        assert.equal(await tokenBlacklist.isFamilyRevoked(family.familyId), true);
        const stored = await refreshFamilies.get(family.familyId);
        assert.equal(stored?.revoked, true);
        assert.equal(stored?.revokedReason, 'admin');
        const result = await refreshFamilies.rotate({
          familyId: family.familyId,
          presentedHash: tokenHash,
          nextHash: newTokenHash(),
          childBlob: 'child',
          graceMs: 10_000,
        });
        assert.equal(result.status, 'revoked');
        assert.equal(
          await revocation.check({
            jti: uniqueJti(),
            userId,
            issuedAtMs: now(ctx),
            familyId: family.familyId,
            sessionId: session.sessionId,
          }),
          'family_revoked',
        );
      }));

    it('a family revocation lasts ttlSeconds', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const familyId = newUserScopedId(uniqueUserId());
        const writtenAt = Date.now();
        await tokenBlacklist.blacklistTokenFamily({ familyId, ttlSeconds: 1, reason: 'admin' });
        await assertExpires(
          ctx,
          1000,
          () => tokenBlacklist.isFamilyRevoked(familyId),
          'family tombstone',
          writtenAt,
        );
      }));

    it('isFamilyRevoked is false for a live family that was not revoked', () =>
      withStores(makeStores, async (ctx) => {
        const { family } = await setupFamily(ctx, uniqueUserId());
        assert.equal(await ctx.stores.tokenBlacklist.isFamilyRevoked(family.familyId), false);
      }));

    it('revokeUserTokensBefore raises the user generation past every earlier one, and only that user’s', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist, revocation } = ctx.stores;
        const userId = uniqueUserId();
        const other = uniqueUserId();
        assert.equal(await tokenBlacklist.getUserGeneration(userId), 0);
        const seen: number[] = [];
        for (let i = 0; i < 5; i++) {
          // Same millisecond on a manual clock, and beforeMs going backwards: still strictly up.
          await tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs: 1000 - i, ttlSeconds: 3600 });
          seen.push(await tokenBlacklist.getUserGeneration(userId));
        }
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `${seen}`);
        assert.equal(await tokenBlacklist.getUserGeneration(other), 0);
        const gen = seen.at(-1)!;
        const query = (userGeneration: number) => ({
          jti: uniqueJti(),
          userId,
          issuedAtMs: 0,
          userGeneration,
        });
        assert.equal(await revocation.check(query(gen - 1)), 'user_revoked', 'an older generation');
        assert.equal(await revocation.check(query(gen)), null, 'the current one, whatever issuedAtMs');
        assert.equal(
          await revocation.check({ jti: uniqueJti(), userId: other, issuedAtMs: 0, userGeneration: 0 }),
          null,
        );
      }));

    it('revokeUserTokensBefore sets the user watermark, and only that user’s', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const userId = uniqueUserId();
        const other = uniqueUserId();
        assert.equal(await tokenBlacklist.getUserWatermark(userId), null);
        const beforeMs = now(ctx);
        await tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs, ttlSeconds: 3600 });
        assert.equal(await tokenBlacklist.getUserWatermark(userId), beforeMs);
        assert.equal(await tokenBlacklist.getUserWatermark(other), null);
      }));

    it('the watermark only moves forward', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const userId = uniqueUserId();
        const t = now(ctx);
        await tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs: t, ttlSeconds: 3600 });
        await tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs: t - 5000, ttlSeconds: 3600 });
        assert.equal(
          await tokenBlacklist.getUserWatermark(userId),
          t,
          'an older watermark does not move it back',
        );
        await tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs: t + 5000, ttlSeconds: 3600 });
        assert.equal(await tokenBlacklist.getUserWatermark(userId), t + 5000);
      }));

    it('the watermark lives ttlSeconds', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const userId = uniqueUserId();
        const writtenAt = Date.now();
        await tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs: now(ctx), ttlSeconds: 1 });
        await assertExpires(
          ctx,
          1000,
          async () => (await tokenBlacklist.getUserWatermark(userId)) !== null,
          'user watermark',
          writtenAt,
        );
      }));

    it('cleanupExpired removes expired entries from the index and keeps live ones', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const expiring = [uniqueJti(), uniqueJti(), uniqueJti()];
        const lasting = uniqueJti();
        const writtenAt = Date.now();
        for (const jti of expiring) await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 1, reason: 'x' });
        await tokenBlacklist.blacklistToken({ jti: lasting, ttlSeconds: 3600, reason: 'x' });
        assert.equal(await tokenBlacklist.cleanupExpired(), 0, 'nothing has expired yet');
        await assertExpires(
          ctx,
          1000,
          async () =>
            (await Promise.all(expiring.map((jti) => tokenBlacklist.isBlacklisted(jti)))).some(Boolean),
          'blacklist entries',
          writtenAt,
        );
        assert.equal(await tokenBlacklist.cleanupExpired(), 3);
        assert.equal(await tokenBlacklist.cleanupExpired(), 0, 'a second pass finds nothing');
        assert.equal(await tokenBlacklist.isBlacklisted(lasting), true);
      }));

    it('rejects bad ids with ERR_INVALID_ID', () =>
      withStores(makeStores, async (ctx) => {
        const bl = ctx.stores.tokenBlacklist;
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (jti) => bl.blacklistToken({ jti, ttlSeconds: 60, reason: 'x' }),
          'blacklistToken.jti',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) => bl.blacklistToken({ jti: uniqueJti(), ttlSeconds: 60, userId, reason: 'x' }),
          'blacklistToken.userId',
        );
        await assertRejectsAll(BAD_IDS, 'ERR_INVALID_ID', (jti) => bl.isBlacklisted(jti), 'isBlacklisted');
        await assertRejectsAll(BAD_IDS, 'ERR_INVALID_ID', (jti) => bl.getEntry(jti), 'getEntry');
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) =>
            bl.blacklistAllUserTokens({ userId, tokenJtis: [uniqueJti()], ttlSeconds: 60, reason: 'x' }),
          'blacklistAllUserTokens.userId',
        );
        await assertRejectsAll(
          badScopedIds(),
          'ERR_INVALID_ID',
          (familyId) => bl.blacklistTokenFamily({ familyId, ttlSeconds: 60, reason: 'x' }),
          'blacklistTokenFamily',
        );
        await assertRejectsAll(
          badScopedIds(),
          'ERR_INVALID_ID',
          (id) => bl.isFamilyRevoked(id),
          'isFamilyRevoked',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) => bl.revokeUserTokensBefore({ userId, beforeMs: now(ctx), ttlSeconds: 60 }),
          'revokeUserTokensBefore',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) => bl.getUserGeneration(userId),
          'getUserGeneration',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) => bl.getUserWatermark(userId),
          'getUserWatermark',
        );
      }));

    it('rejects bad TTLs with ERR_INVALID_ARGUMENT and writes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const bl = ctx.stores.tokenBlacklist;
        const jti = uniqueJti();
        const userId = uniqueUserId();
        const familyId = newUserScopedId(userId);
        await assertRejectsAll(
          BAD_TTLS,
          'ERR_INVALID_ARGUMENT',
          (ttlSeconds) => bl.blacklistToken({ jti, ttlSeconds, reason: 'x' }),
          'blacklistToken',
        );
        await assertRejectsAll(
          BAD_TTLS,
          'ERR_INVALID_ARGUMENT',
          (ttlSeconds) => bl.blacklistAllUserTokens({ userId, tokenJtis: [jti], ttlSeconds, reason: 'x' }),
          'blacklistAllUserTokens',
        );
        await assertRejectsAll(
          BAD_TTLS,
          'ERR_INVALID_ARGUMENT',
          (ttlSeconds) => bl.blacklistTokenFamily({ familyId, ttlSeconds, reason: 'x' }),
          'blacklistTokenFamily',
        );
        await assertRejectsAll(
          BAD_TTLS,
          'ERR_INVALID_ARGUMENT',
          (ttlSeconds) => bl.revokeUserTokensBefore({ userId, beforeMs: now(ctx), ttlSeconds }),
          'revokeUserTokensBefore',
        );
        assert.equal(await bl.isBlacklisted(jti), false);
        assert.equal(await bl.isFamilyRevoked(familyId), false);
        assert.equal(await bl.getUserWatermark(userId), null);
      }));

    it('blacklistAllUserTokens counts a repeated jti once', () =>
      withStores(makeStores, async (ctx) => {
        const jti = uniqueJti();
        const other = uniqueJti();
        const written = await ctx.stores.tokenBlacklist.blacklistAllUserTokens({
          userId: uniqueUserId(),
          tokenJtis: [jti, other, jti],
          ttlSeconds: 60,
          reason: 'x',
        });
        assert.equal(written, 2);
      }));

    it('blacklistTokenFamily never shortens a known family: it stays revoked for its own life', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist, refreshFamilies } = ctx.stores;
        const { family } = await setupFamily(ctx, uniqueUserId(), { ttlSeconds: 3600 });
        await tokenBlacklist.blacklistTokenFamily({
          familyId: family.familyId,
          ttlSeconds: 1,
          reason: 'admin',
        });
        const stored = await refreshFamilies.get(family.familyId);
        assert.equal(stored?.revoked, true);
        assert.equal(stored?.expiresAt, family.expiresAt, 'the family keeps its expiry');
      }));

    it('cleanupExpired also counts revoked-family index entries whose family has expired', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const familyId = newUserScopedId(uniqueUserId());
        const writtenAt = Date.now();
        await tokenBlacklist.blacklistTokenFamily({ familyId, ttlSeconds: 1, reason: 'admin' });
        assert.equal(await tokenBlacklist.cleanupExpired(), 0, 'nothing has expired yet');
        await assertExpires(
          ctx,
          1000,
          () => tokenBlacklist.isFamilyRevoked(familyId),
          'tombstone',
          writtenAt,
        );
        assert.equal(await tokenBlacklist.cleanupExpired(), 1);
        assert.equal(await tokenBlacklist.cleanupExpired(), 0, 'a second pass finds nothing');
      }));

    it('a blacklist write prunes the expired members of the blacklist index', () =>
      withStores(makeStores, async (ctx) => {
        const { tokenBlacklist } = ctx.stores;
        const expiring = [uniqueJti(), uniqueJti()];
        const writtenAt = Date.now();
        for (const jti of expiring) await tokenBlacklist.blacklistToken({ jti, ttlSeconds: 1, reason: 'x' });
        await assertExpires(
          ctx,
          1000,
          async () =>
            (await Promise.all(expiring.map((jti) => tokenBlacklist.isBlacklisted(jti)))).some(Boolean),
          'blacklist entries',
          writtenAt,
        );
        await tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 3600, reason: 'x' });
        assert.equal(await tokenBlacklist.cleanupExpired(), 0, 'the write left nothing to sweep');
      }));
  });
}
