import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newUserScopedId } from '../../src/core/ids.js';
import type { RevocationQuery } from '../../src/core/ports.js';
import { makeSession, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import {
  assertRejectsAll,
  BAD_IDS,
  BAD_USER_IDS,
  badScopedIds,
  type ContractStores,
  type MakeStores,
  now,
  passTime,
  setupFamily,
  withStores,
} from './harness.js';

/** A token of a live session and family: nothing revokes it yet. */
async function liveToken(ctx: ContractStores): Promise<RevocationQuery> {
  const userId = uniqueUserId();
  const { family, session } = await setupFamily(ctx, userId);
  return {
    jti: uniqueJti(),
    userId,
    issuedAtMs: now(ctx),
    familyId: family.familyId,
    sessionId: session.sessionId,
  };
}

/** `RevocationChecker`: the first reason a signed token is revoked, in a fixed order. */
export function revocationContract(name: string, makeStores: MakeStores): void {
  describe(`RevocationChecker contract (${name})`, () => {
    it('a token with nothing against it is not revoked', () =>
      withStores(makeStores, async (ctx) => {
        const query = await liveToken(ctx);
        assert.equal(await ctx.stores.revocation.check(query), null);
        assert.equal(
          await ctx.stores.revocation.check({
            jti: query.jti,
            userId: query.userId,
            issuedAtMs: query.issuedAtMs,
          }),
          null,
          'without family or session',
        );
      }));

    it('a blacklisted jti is revoked as blacklisted', () =>
      withStores(makeStores, async (ctx) => {
        const query = await liveToken(ctx);
        await ctx.stores.tokenBlacklist.blacklistToken({ jti: query.jti, ttlSeconds: 600, reason: 'logout' });
        assert.equal(await ctx.stores.revocation.check(query), 'blacklisted');
        assert.equal(await ctx.stores.revocation.check({ ...query, jti: uniqueJti() }), null);
      }));

    it('a token issued before the user watermark is revoked as user_revoked', () =>
      withStores(makeStores, async (ctx) => {
        const query = await liveToken(ctx);
        const bl = ctx.stores.tokenBlacklist;
        await bl.revokeUserTokensBefore({
          userId: query.userId,
          beforeMs: query.issuedAtMs,
          ttlSeconds: 600,
        });
        assert.equal(
          await ctx.stores.revocation.check(query),
          null,
          'issued at the watermark: not before it',
        );
        assert.equal(
          await ctx.stores.revocation.check({ ...query, issuedAtMs: query.issuedAtMs - 1 }),
          'user_revoked',
        );
        const other = await liveToken(ctx);
        assert.equal(
          await ctx.stores.revocation.check({ ...other, issuedAtMs: query.issuedAtMs - 1 }),
          null,
          "another user's tokens are untouched",
        );
      }));

    it('a token whose family is revoked or unknown is revoked as family_revoked', () =>
      withStores(makeStores, async (ctx) => {
        const query = await liveToken(ctx);
        assert.equal(
          await ctx.stores.revocation.check({ ...query, familyId: newUserScopedId(query.userId) }),
          'family_revoked',
          'unknown family',
        );
        await ctx.stores.tokenBlacklist.blacklistTokenFamily({
          familyId: query.familyId!,
          ttlSeconds: 600,
          reason: 'admin',
        });
        assert.equal(await ctx.stores.revocation.check(query), 'family_revoked');
      }));

    it('a session ended by its own record (updated without extending) is session_ended too', () =>
      withStores(makeStores, async (ctx) => {
        const { revocation, sessionStore } = ctx.stores;
        const query = await liveToken(ctx);
        const { familyId: _familyId, ...withoutFamily } = query;
        const session = await sessionStore.getSession(query.sessionId!);
        assert.ok(session);
        const t = now(ctx);
        const ended = {
          ...session,
          expiresAt: t - 1,
          absoluteExpiresAt: Math.min(session.absoluteExpiresAt, t - 1),
        };
        assert.equal(await sessionStore.updateSession(ended, { extendTtl: false }), true);
        assert.equal(await sessionStore.getSession(query.sessionId!), null, 'the store no longer returns it');
        assert.equal(await revocation.check(withoutFamily), 'session_ended', 'nor does the revocation check');
      }));

    it('a token whose session is not live is revoked as session_ended', () =>
      withStores(makeStores, async (ctx) => {
        const { revocation, sessionStore } = ctx.stores;
        const query = await liveToken(ctx);
        const { familyId: _familyId, ...withoutFamily } = query;
        assert.equal(
          await revocation.check({ ...withoutFamily, sessionId: newUserScopedId(query.userId) }),
          'session_ended',
          'unknown session',
        );
        await sessionStore.deleteSession(query.sessionId!);
        assert.equal(await revocation.check(query), 'session_ended', 'deleted session');

        const t = now(ctx);
        const expiring = makeSession(query.userId, { expiresAt: t + 300 }, t);
        await sessionStore.createSession(expiring);
        const q2 = { ...withoutFamily, sessionId: expiring.sessionId };
        assert.equal(await revocation.check(q2), null);
        await passTime(ctx, 300);
        assert.equal(await revocation.check(q2), 'session_ended', 'expired session');
      }));

    it('reasons are reported in order: blacklisted, user_revoked, family_revoked, session_ended', () =>
      withStores(makeStores, async (ctx) => {
        const { revocation, tokenBlacklist, sessionStore } = ctx.stores;
        const query = await liveToken(ctx);
        await sessionStore.deleteSession(query.sessionId!);
        await tokenBlacklist.blacklistTokenFamily({
          familyId: query.familyId!,
          ttlSeconds: 600,
          reason: 'x',
        });
        await tokenBlacklist.revokeUserTokensBefore({
          userId: query.userId,
          beforeMs: query.issuedAtMs + 1,
          ttlSeconds: 600,
        });
        await tokenBlacklist.blacklistToken({ jti: query.jti, ttlSeconds: 600, reason: 'x' });
        assert.equal(await revocation.check(query), 'blacklisted');
        const notBlacklisted = { ...query, jti: uniqueJti() };
        assert.equal(await revocation.check(notBlacklisted), 'user_revoked');
        const afterWatermark = { ...notBlacklisted, issuedAtMs: query.issuedAtMs + 1 };
        assert.equal(await revocation.check(afterWatermark), 'family_revoked');
        const { familyId: _familyId, ...withoutFamily } = afterWatermark;
        assert.equal(await revocation.check(withoutFamily), 'session_ended');
      }));

    it('rejects bad ids with ERR_INVALID_ID', () =>
      withStores(makeStores, async (ctx) => {
        const { revocation } = ctx.stores;
        const query = await liveToken(ctx);
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (jti) => revocation.check({ ...query, jti }),
          'jti',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) => revocation.check({ ...query, userId }),
          'userId',
        );
        await assertRejectsAll(
          badScopedIds(query.userId),
          'ERR_INVALID_ID',
          (familyId) => revocation.check({ ...query, familyId }),
          'familyId',
        );
        await assertRejectsAll(
          badScopedIds(query.userId),
          'ERR_INVALID_ID',
          (sessionId) => revocation.check({ ...query, sessionId }),
          'sessionId',
        );
      }));
  });
}
