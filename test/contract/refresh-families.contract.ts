import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newUserScopedId } from '../../src/core/ids.js';
import type { RotateResult } from '../../src/core/ports.js';
import { makeSession, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import {
  assertExpires,
  assertRejectsAll,
  BAD_USER_IDS,
  BAD_TTLS,
  badScopedIds,
  type ContractStores,
  type MakeStores,
  newTokenHash,
  now,
  passTime,
  setupFamily,
  withStores,
} from './harness.js';

function rotate(
  ctx: ContractStores,
  familyId: string,
  presentedHash: string,
  options: { nextHash?: string; childBlob?: string; graceMs?: number } = {},
): Promise<RotateResult> {
  return ctx.stores.refreshFamilies.rotate({
    familyId,
    presentedHash,
    nextHash: options.nextHash ?? newTokenHash(),
    childBlob: options.childBlob ?? 'child-token-blob',
    graceMs: options.graceMs ?? 10_000,
  });
}

/** `RefreshFamilyStore`: atomic rotation, the grace window, reuse detection. */
export function refreshFamiliesContract(name: string, makeStores: MakeStores): void {
  describe(`RefreshFamilyStore contract (${name})`, () => {
    it('create starts a family at generation 0 and get returns it', () =>
      withStores(makeStores, async (ctx) => {
        const userId = uniqueUserId();
        const session = makeSession(userId, {}, now(ctx));
        await ctx.stores.sessionStore.createSession(session);
        const familyId = newUserScopedId(userId);
        const before = now(ctx);
        const family = await ctx.stores.refreshFamilies.create({
          familyId,
          userId,
          sessionId: session.sessionId,
          tokenHash: newTokenHash(),
          ttlSeconds: 3600,
        });
        const after = now(ctx);
        assert.ok(
          family.createdAt >= before && family.createdAt <= after,
          'createdAt is the time of the call',
        );
        assert.deepEqual(family, {
          familyId,
          userId,
          sessionId: session.sessionId,
          generation: 0,
          createdAt: family.createdAt,
          expiresAt: family.createdAt + 3_600_000,
          revoked: false,
          revokedReason: null,
          claims: null,
          userGeneration: 0,
        });
        assert.deepEqual(await ctx.stores.refreshFamilies.get(familyId), family);
      }));

    it('create keeps the claims, and rotation keeps them', () =>
      withStores(makeStores, async (ctx) => {
        const userId = uniqueUserId();
        const session = makeSession(userId, {}, now(ctx));
        await ctx.stores.sessionStore.createSession(session);
        const claims = JSON.stringify({
          email: 'trader@example.com',
          roles: ['user'],
          permissions: ['read'],
        });
        const tokenHash = newTokenHash();
        const family = await ctx.stores.refreshFamilies.create({
          familyId: newUserScopedId(userId),
          userId,
          sessionId: session.sessionId,
          tokenHash,
          ttlSeconds: 3600,
          claims,
        });
        assert.equal(family.claims, claims);
        assert.equal((await ctx.stores.refreshFamilies.get(family.familyId))?.claims, claims);
        const rotated = await rotate(ctx, family.familyId, tokenHash);
        assert.equal(rotated.status === 'rotated' && rotated.family.claims, claims);
      }));

    it('get returns null and rotate not_found for an unknown family', () =>
      withStores(makeStores, async (ctx) => {
        const familyId = newUserScopedId(uniqueUserId());
        assert.equal(await ctx.stores.refreshFamilies.get(familyId), null);
        assert.deepEqual(await rotate(ctx, familyId, newTokenHash()), { status: 'not_found' });
      }));

    it('rotate with the current hash moves the family on to nextHash', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId());
        const h1 = newTokenHash();
        const r1 = await rotate(ctx, family.familyId, tokenHash, { nextHash: h1 });
        assert.equal(r1.status, 'rotated');
        assert.deepEqual(r1.family, { ...family, generation: 1 });
        assert.deepEqual(await ctx.stores.refreshFamilies.get(family.familyId), { ...family, generation: 1 });
        const r2 = await rotate(ctx, family.familyId, h1);
        assert.equal(r2.status, 'rotated');
        assert.equal(r2.family.generation, 2);
      }));

    it('rotate with the owner named by the caller: the right one rotates, another one changes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const userId = uniqueUserId();
        const { family, tokenHash } = await setupFamily(ctx, userId);
        const other = makeSession(userId, {}, now(ctx));
        await ctx.stores.sessionStore.createSession(other);
        const named = (owner: { userId: string; sessionId: string }) =>
          ctx.stores.refreshFamilies.rotate({
            familyId: family.familyId,
            presentedHash: tokenHash,
            nextHash: newTokenHash(),
            childBlob: 'child-token-blob',
            graceMs: 10_000,
            owner,
          });
        // Another session of the same user (same slot), and another user: not this family's owner.
        assert.deepEqual(await named({ userId, sessionId: other.sessionId }), { status: 'not_found' });
        const stranger = uniqueUserId();
        const strangerSession = makeSession(stranger, {}, now(ctx));
        assert.deepEqual(await named({ userId: stranger, sessionId: strangerSession.sessionId }), {
          status: 'not_found',
        });
        assert.deepEqual(await ctx.stores.refreshFamilies.get(family.familyId), family, 'nothing changed');
        const r = await named({ userId, sessionId: family.sessionId });
        assert.equal(r.status, 'rotated');
        assert.equal(r.family.generation, 1);
      }));

    it('the previous hash within graceMs gets the same child again, without forking', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash, session } = await setupFamily(ctx, uniqueUserId());
        const h1 = newTokenHash();
        assert.equal(
          (await rotate(ctx, family.familyId, tokenHash, { nextHash: h1, childBlob: 'c1' })).status,
          'rotated',
        );
        for (let i = 0; i < 3; i++) {
          const again = await rotate(ctx, family.familyId, tokenHash, { childBlob: `other-${i}` });
          assert.equal(again.status, 'grace');
          assert.equal(again.status === 'grace' && again.childBlob, 'c1', 'the stored child, not a new one');
          assert.equal(again.family.generation, 1);
        }
        assert.deepEqual(await ctx.stores.refreshFamilies.get(family.familyId), { ...family, generation: 1 });
        assert.deepEqual(await ctx.stores.sessionStore.getSession(session.sessionId), session);
        const next = await rotate(ctx, family.familyId, h1);
        assert.equal(next.status, 'rotated', 'the child is still the current token');
        assert.equal(next.family.generation, 2);
      }));

    it('the previous hash after graceMs is reuse: the family is revoked and its session ended', () =>
      withStores(makeStores, async (ctx) => {
        const { stores } = ctx;
        const userId = uniqueUserId();
        const { family, tokenHash, session } = await setupFamily(ctx, userId);
        const graceMs = ctx.clock ? 1000 : 200;
        const h1 = newTokenHash();
        await rotate(ctx, family.familyId, tokenHash, { nextHash: h1, childBlob: 'c1', graceMs });
        if (ctx.clock) {
          ctx.clock.advance(graceMs);
          assert.equal(
            (await rotate(ctx, family.familyId, tokenHash, { graceMs })).status,
            'grace',
            'inclusive',
          );
        }
        await passTime(ctx, ctx.clock ? 1 : graceMs);
        const reused = await rotate(ctx, family.familyId, tokenHash, { graceMs });
        assert.equal(reused.status, 'reused');
        assert.ok(reused.status === 'reused');
        assert.equal(reused.family.revoked, true);
        assert.equal(reused.family.revokedReason, 'token_reuse_detected');
        assert.deepEqual(reused.sessionEnded, session);
        assert.equal(await stores.sessionStore.getSession(session.sessionId), null);
        assert.deepEqual(await stores.sessionStore.getUserSessions(userId, { activeOnly: false }), []);
        assert.deepEqual(await stores.sessionStore.getDeviceSessions(session.deviceId!), []);
        const stored = await stores.refreshFamilies.get(family.familyId);
        assert.equal(stored?.revoked, true);
        assert.equal(stored?.revokedReason, 'token_reuse_detected');
        assert.equal(await stores.tokenBlacklist.isFamilyRevoked(family.familyId), true);
        assert.equal(
          (await rotate(ctx, family.familyId, h1)).status,
          'revoked',
          'the child dies with the family',
        );
        assert.equal((await rotate(ctx, family.familyId, tokenHash)).status, 'revoked');
      }));

    it('a hash the family never had is invalid and changes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash, session } = await setupFamily(ctx, uniqueUserId());
        assert.deepEqual(await rotate(ctx, family.familyId, newTokenHash()), { status: 'invalid' });
        assert.deepEqual(
          await ctx.stores.refreshFamilies.get(family.familyId),
          family,
          'not revoked, not rotated',
        );
        assert.deepEqual(await ctx.stores.sessionStore.getSession(session.sessionId), session);
        assert.equal(await ctx.stores.tokenBlacklist.isFamilyRevoked(family.familyId), false);
        assert.equal(
          (await rotate(ctx, family.familyId, tokenHash)).status,
          'rotated',
          'the real token still works',
        );
      }));

    it('a hash two generations old is reuse, even within graceMs', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId());
        const h1 = newTokenHash();
        await rotate(ctx, family.familyId, tokenHash, { nextHash: h1 });
        await rotate(ctx, family.familyId, h1);
        const result = await rotate(ctx, family.familyId, tokenHash, { graceMs: 60_000 });
        assert.equal(result.status, 'reused');
        assert.equal(result.status === 'reused' && result.family.revoked, true);
      }));

    it('the family remembers its last 32 consumed hashes: older ones are invalid, not reuse', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId());
        const consumed = [tokenHash];
        let current = tokenHash;
        for (let i = 0; i < 33; i++) {
          const next = newTokenHash();
          assert.equal((await rotate(ctx, family.familyId, current, { nextHash: next })).status, 'rotated');
          current = next;
          consumed.push(next);
        }
        // consumed[0..32] were rotated away; the last 32 of them (consumed[1..32]) are remembered.
        assert.deepEqual(
          await rotate(ctx, family.familyId, consumed[0]!),
          { status: 'invalid' },
          '33 rotations ago',
        );
        assert.equal((await ctx.stores.refreshFamilies.get(family.familyId))?.revoked, false);
        const result = await rotate(ctx, family.familyId, consumed[1]!);
        assert.equal(result.status, 'reused', '32 rotations ago');
      }));

    it('a revoke-all revokes the families created before it, and none created after it, whatever beforeMs says', () =>
      withStores(makeStores, async (ctx) => {
        const userId = uniqueUserId();
        const { family, tokenHash, session } = await setupFamily(ctx, userId);
        const bl = ctx.stores.tokenBlacklist;
        // beforeMs far in the past: the generation still revokes the family made before the call.
        await bl.revokeUserTokensBefore({ userId, beforeMs: 0, ttlSeconds: 3600 });
        const r1 = await rotate(ctx, family.familyId, tokenHash);
        assert.equal(r1.status, 'revoked');
        assert.equal(r1.status === 'revoked' && r1.family.revokedReason, 'user_revoked');
        assert.equal(
          (await ctx.stores.refreshFamilies.get(family.familyId))?.generation,
          0,
          'nothing rotated',
        );
        assert.deepEqual(await ctx.stores.sessionStore.getSession(session.sessionId), session);
        // beforeMs far in the future (a clock that runs ahead): a family created after the call
        // carries the new generation and rotates; in the same millisecond too.
        await bl.revokeUserTokensBefore({ userId, beforeMs: now(ctx) + 3_600_000, ttlSeconds: 3600 });
        const after = await setupFamily(ctx, userId);
        assert.equal(after.family.userGeneration, await bl.getUserGeneration(userId));
        assert.equal((await rotate(ctx, after.family.familyId, after.tokenHash)).status, 'rotated');
        const other = await setupFamily(ctx, uniqueUserId());
        assert.equal((await rotate(ctx, other.family.familyId, other.tokenHash)).status, 'rotated');
      }));

    it('a family whose session has ended reports session_ended and rotates nothing', () =>
      withStores(makeStores, async (ctx) => {
        // Ended by its idle expiry, with nothing since to delete the family (a session store call
        // that ends sessions, or a family create, would).
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId(), { sessionTtlMs: 300 });
        await passTime(ctx, 300);
        const result = await rotate(ctx, family.familyId, tokenHash);
        assert.equal(result.status, 'session_ended');
        assert.equal(result.status === 'session_ended' && result.family.familyId, family.familyId);
        assert.deepEqual(
          await rotate(ctx, family.familyId, newTokenHash()),
          { status: 'invalid' },
          'invalid first',
        );
        const stored = await ctx.stores.refreshFamilies.get(family.familyId);
        assert.equal(stored?.generation, 0);
        assert.equal(stored?.revoked, false);
      }));

    it('session_ended applies to the current and previous hash; an older hash is still reuse', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId(), { sessionTtlMs: 300 });
        const h1 = newTokenHash();
        const h2 = newTokenHash();
        await rotate(ctx, family.familyId, tokenHash, { nextHash: h1 });
        await rotate(ctx, family.familyId, h1, { nextHash: h2 });
        await passTime(ctx, 300);
        assert.equal((await rotate(ctx, family.familyId, h2)).status, 'session_ended', 'current');
        assert.equal(
          (await rotate(ctx, family.familyId, h1, { graceMs: 0 })).status,
          'session_ended',
          'previous',
        );
        const result = await rotate(ctx, family.familyId, tokenHash);
        assert.equal(result.status, 'reused', 'two generations old');
        assert.equal(
          result.status === 'reused' && result.sessionEnded,
          null,
          'the session had already ended',
        );
        assert.equal((await ctx.stores.refreshFamilies.get(family.familyId))?.revoked, true);
      }));

    it('invalid is reported before revoked: a made-up hash learns nothing about a revoked family', () =>
      withStores(makeStores, async (ctx) => {
        const userId = uniqueUserId();
        const a = await setupFamily(ctx, userId);
        await ctx.stores.tokenBlacklist.blacklistTokenFamily({
          familyId: a.family.familyId,
          ttlSeconds: 600,
          reason: 'x',
        });
        assert.deepEqual(await rotate(ctx, a.family.familyId, newTokenHash()), { status: 'invalid' });
        assert.equal((await rotate(ctx, a.family.familyId, a.tokenHash)).status, 'revoked', 'its own hash');
        const b = await setupFamily(ctx, userId);
        await ctx.stores.tokenBlacklist.revokeUserTokensBefore({
          userId,
          beforeMs: b.family.createdAt + 1,
          ttlSeconds: 600,
        });
        assert.deepEqual(
          await rotate(ctx, b.family.familyId, newTokenHash()),
          { status: 'invalid' },
          'revoked by revoke-all, made-up hash',
        );
        assert.equal(
          (await rotate(ctx, b.family.familyId, b.tokenHash)).status,
          'revoked',
          'revoked by revoke-all, its own hash',
        );
      }));

    it('revokeWithToken revokes the family on presentation of one of its tokens', () =>
      withStores(makeStores, async (ctx) => {
        const families = ctx.stores.refreshFamilies;
        const userId = uniqueUserId();
        for (const which of ['current', 'previous', 'older'] as const) {
          const { family, tokenHash } = await setupFamily(ctx, userId);
          const h1 = newTokenHash();
          const h2 = newTokenHash();
          await rotate(ctx, family.familyId, tokenHash, { nextHash: h1 });
          await rotate(ctx, family.familyId, h1, { nextHash: h2 });
          const presented = which === 'current' ? h2 : which === 'previous' ? h1 : tokenHash;
          const revoked = await families.revokeWithToken({
            familyId: family.familyId,
            presentedHash: presented,
            reason: 'logout',
          });
          assert.deepEqual(
            revoked,
            { ...family, generation: 2, revoked: true, revokedReason: 'logout' },
            which,
          );
          assert.deepEqual(await families.get(family.familyId), revoked);
          assert.equal(await ctx.stores.tokenBlacklist.isFamilyRevoked(family.familyId), true);
          assert.equal((await rotate(ctx, family.familyId, h2)).status, 'revoked');
          const again = await families.revokeWithToken({
            familyId: family.familyId,
            presentedHash: h2,
            reason: 'later',
          });
          assert.equal(again?.revokedReason, 'logout', 'the first reason is kept');
        }
      }));

    it('revokeWithToken changes nothing for a hash the family never had or an unknown family', () =>
      withStores(makeStores, async (ctx) => {
        const families = ctx.stores.refreshFamilies;
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId());
        assert.equal(
          await families.revokeWithToken({
            familyId: family.familyId,
            presentedHash: newTokenHash(),
            reason: 'x',
          }),
          null,
        );
        assert.deepEqual(await families.get(family.familyId), family);
        assert.equal(
          await families.revokeWithToken({
            familyId: newUserScopedId(family.userId),
            presentedHash: tokenHash,
            reason: 'x',
          }),
          null,
        );
        assert.equal((await rotate(ctx, family.familyId, tokenHash)).status, 'rotated');
      }));

    it('a family whose session expired reports session_ended', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId(), { sessionTtlMs: 300 });
        await passTime(ctx, 300);
        assert.equal((await rotate(ctx, family.familyId, tokenHash)).status, 'session_ended');
        assert.equal((await ctx.stores.refreshFamilies.get(family.familyId))?.generation, 0);
      }));

    it('a family lives ttlSeconds', () =>
      withStores(makeStores, async (ctx) => {
        const writtenAt = Date.now();
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId(), { ttlSeconds: 1 });
        await assertExpires(
          ctx,
          1000,
          async () => (await ctx.stores.refreshFamilies.get(family.familyId)) !== null,
          'refresh family',
          writtenAt,
        );
        assert.deepEqual(await rotate(ctx, family.familyId, tokenHash), { status: 'not_found' });
      }));

    it('100 concurrent rotations with the same hash: one rotated, the rest grace with the same child', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash, session } = await setupFamily(ctx, uniqueUserId());
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            rotate(ctx, family.familyId, tokenHash, { nextHash: newTokenHash(), childBlob: `child-${i}` }),
          ),
        );
        const winners = results.flatMap((r, i) => (r.status === 'rotated' ? [i] : []));
        assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
        const expected = `child-${winners[0]}`;
        for (const r of results) {
          if (r.status === 'rotated') continue;
          assert.equal(r.status, 'grace');
          assert.equal(r.status === 'grace' && r.childBlob, expected);
        }
        const stored = await ctx.stores.refreshFamilies.get(family.familyId);
        assert.equal(stored?.generation, 1);
        assert.equal(stored?.revoked, false);
        assert.deepEqual(await ctx.stores.sessionStore.getSession(session.sessionId), session);
      }));

    it('rejects bad ids with ERR_INVALID_ID and bad TTLs with ERR_INVALID_ARGUMENT', () =>
      withStores(makeStores, async (ctx) => {
        const families = ctx.stores.refreshFamilies;
        const userId = uniqueUserId();
        const session = makeSession(userId, {}, now(ctx));
        await ctx.stores.sessionStore.createSession(session);
        const valid = {
          familyId: newUserScopedId(userId),
          userId,
          sessionId: session.sessionId,
          tokenHash: newTokenHash(),
          ttlSeconds: 3600,
        };
        const scoped = badScopedIds(userId);
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (familyId) => families.create({ ...valid, familyId }),
          'create.familyId',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (bad) => families.create({ ...valid, userId: bad }),
          'create.userId',
        );
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (sessionId) => families.create({ ...valid, sessionId }),
          'create.sessionId',
        );
        await assertRejectsAll(
          BAD_TTLS,
          'ERR_INVALID_ARGUMENT',
          (ttlSeconds) => families.create({ ...valid, ttlSeconds }),
          'create.ttlSeconds',
        );
        assert.equal(await families.get(valid.familyId), null, 'nothing was written');
        await assertRejectsAll(scoped, 'ERR_INVALID_ID', (id) => families.get(id), 'get');
        await assertRejectsAll(scoped, 'ERR_INVALID_ID', (id) => rotate(ctx, id, newTokenHash()), 'rotate');
        await assertRejectsAll(
          scoped,
          'ERR_INVALID_ID',
          (familyId) => families.revokeWithToken({ familyId, presentedHash: newTokenHash(), reason: 'x' }),
          'revokeWithToken',
        );
      }));

    it("create refuses a family or session id of another user's slot (ERR_INVALID_ID)", () =>
      withStores(makeStores, async (ctx) => {
        const families = ctx.stores.refreshFamilies;
        const userId = uniqueUserId();
        const session = makeSession(userId, {}, now(ctx));
        await ctx.stores.sessionStore.createSession(session);
        const valid = {
          familyId: newUserScopedId(userId),
          userId,
          sessionId: session.sessionId,
          tokenHash: newTokenHash(),
          ttlSeconds: 3600,
        };
        const foreign = newUserScopedId(uniqueUserId());
        await assertRejectsAll(
          [foreign],
          'ERR_INVALID_ID',
          (familyId) => families.create({ ...valid, familyId }),
          'create.familyId',
        );
        await assertRejectsAll(
          [foreign],
          'ERR_INVALID_ID',
          (sessionId) => families.create({ ...valid, sessionId }),
          'create.sessionId',
        );
        assert.equal(await families.get(foreign), null);
        assert.equal(await families.get(valid.familyId), null);
      }));

    it('re-creating a family id is refused (ERR_INVALID_ARGUMENT): a rotated family keeps its state, a revoked one stays revoked', () =>
      withStores(makeStores, async (ctx) => {
        const families = ctx.stores.refreshFamilies;
        const { family, tokenHash, session } = await setupFamily(ctx, uniqueUserId());
        await rotate(ctx, family.familyId, tokenHash);
        const again = {
          familyId: family.familyId,
          userId: family.userId,
          sessionId: session.sessionId,
          tokenHash: newTokenHash(),
          ttlSeconds: 3600,
        };
        await assertRejectsAll([again], 'ERR_INVALID_ARGUMENT', (input) => families.create(input), 'create');
        assert.deepEqual(await families.get(family.familyId), { ...family, generation: 1 });
        assert.deepEqual(await rotate(ctx, family.familyId, again.tokenHash), { status: 'invalid' });

        await ctx.stores.tokenBlacklist.blacklistTokenFamily({
          familyId: family.familyId,
          ttlSeconds: 600,
          reason: 'admin',
        });
        await assertRejectsAll([again], 'ERR_INVALID_ARGUMENT', (input) => families.create(input), 'create');
        assert.equal((await families.get(family.familyId))?.revoked, true, 'still revoked');

        // A tombstone (an unknown family revoked by id) cannot be re-created either.
        const tombstone = newUserScopedId(family.userId);
        await ctx.stores.tokenBlacklist.blacklistTokenFamily({
          familyId: tombstone,
          ttlSeconds: 600,
          reason: 'x',
        });
        await assertRejectsAll(
          [{ ...again, familyId: tombstone }],
          'ERR_INVALID_ARGUMENT',
          (input) => families.create(input),
          'create over a tombstone',
        );
        assert.equal(await ctx.stores.tokenBlacklist.isFamilyRevoked(tombstone), true);
      }));

    it('revokeWithToken revokes the family only: its session stays live (ending it is the caller’s job)', () =>
      withStores(makeStores, async (ctx) => {
        const { stores } = ctx;
        const userId = uniqueUserId();
        const { family, tokenHash, session } = await setupFamily(ctx, userId);
        const revoked = await stores.refreshFamilies.revokeWithToken({
          familyId: family.familyId,
          presentedHash: tokenHash,
          reason: 'logout',
        });
        assert.equal(revoked?.revoked, true);
        assert.deepEqual(await stores.sessionStore.getSession(session.sessionId), session);
        assert.deepEqual(await stores.sessionStore.getUserSessions(userId), [session]);
        const query = { jti: uniqueJti(), userId, issuedAtMs: now(ctx), sessionId: session.sessionId };
        assert.equal(await stores.revocation.check(query), null, 'a token of the session without the family');
        assert.equal(
          await stores.revocation.check({ ...query, familyId: family.familyId }),
          'family_revoked',
        );
        assert.equal(await stores.tokenBlacklist.getUserWatermark(userId), null);
      }));

    it('rotate refuses a negative graceMs (ERR_INVALID_ARGUMENT) and rotates nothing', () =>
      withStores(makeStores, async (ctx) => {
        const { family, tokenHash } = await setupFamily(ctx, uniqueUserId());
        await assertRejectsAll(
          [-1, Number.NaN],
          'ERR_INVALID_ARGUMENT',
          (graceMs) => rotate(ctx, family.familyId, tokenHash, { graceMs }),
          'rotate.graceMs',
        );
        assert.deepEqual(await ctx.stores.refreshFamilies.get(family.familyId), family);
      }));

    // Bounded per user: a family lives no longer than its session (docs/data-model.md, "What one
    // user can hold"). Every way a session ends deletes its family; the tokens stay refused.
    describe('families end with their sessions', () => {
      /** The family is gone and everything it vouched for is refused. */
      async function assertGone(
        ctx: ContractStores,
        f: {
          family: { familyId: string };
          tokenHash: string;
          session: { sessionId: string; userId: string };
        },
        why: string,
      ) {
        const { stores } = ctx;
        assert.equal(await stores.refreshFamilies.get(f.family.familyId), null, `${why}: family deleted`);
        assert.deepEqual(
          await rotate(ctx, f.family.familyId, f.tokenHash),
          { status: 'not_found' },
          `${why}: refresh refused`,
        );
        const query = {
          jti: uniqueJti(),
          userId: f.session.userId,
          issuedAtMs: now(ctx),
          familyId: f.family.familyId,
          sessionId: f.session.sessionId,
        };
        assert.equal(await stores.revocation.check(query), 'session_ended', `${why}: access token refused`);
        const { sessionId: _s, ...withoutSession } = query;
        assert.equal(
          await stores.revocation.check(withoutSession),
          'family_revoked',
          `${why}: by its family alone`,
        );
        assert.equal(
          await stores.refreshFamilies.revokeWithToken({
            familyId: f.family.familyId,
            presentedHash: f.tokenHash,
            reason: 'logout',
          }),
          null,
          `${why}: a logout with the old token finds nothing`,
        );
      }

      it('logout (deleteSession) deletes the family; other families stay', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const a = await setupFamily(ctx, userId);
          const b = await setupFamily(ctx, userId);
          await ctx.stores.sessionStore.deleteSession(a.session.sessionId);
          await assertGone(ctx, a, 'logout');
          assert.deepEqual(await ctx.stores.refreshFamilies.get(b.family.familyId), b.family);
          assert.equal((await rotate(ctx, b.family.familyId, b.tokenHash)).status, 'rotated');
        }));

      it('revoke-all and logout-others (deleteUserSessions) delete the ended sessions’ families', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const [a, b, c] = [
            await setupFamily(ctx, userId),
            await setupFamily(ctx, userId),
            await setupFamily(ctx, userId),
          ];
          await ctx.stores.sessionStore.deleteUserSessions(userId, { exceptSessionId: c.session.sessionId });
          await assertGone(ctx, a, 'logout-others');
          await assertGone(ctx, b, 'logout-others');
          assert.deepEqual(await ctx.stores.refreshFamilies.get(c.family.familyId), c.family);
          await ctx.stores.sessionStore.deleteUserSessions(userId);
          await assertGone(ctx, c, 'revoke-all');
        }));

      it('eviction by the session cap deletes the evicted session’s family', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const a = await setupFamily(ctx, userId);
          await passTime(ctx, 2);
          const b = await setupFamily(ctx, userId);
          await passTime(ctx, 2);
          const c = makeSession(userId, {}, now(ctx));
          const { evicted } = await ctx.stores.sessionStore.createSession(c, { maxSessions: 2 });
          assert.deepEqual(evicted, [a.session.sessionId]);
          await assertGone(ctx, a, 'evicted');
          assert.deepEqual(await ctx.stores.refreshFamilies.get(b.family.familyId), b.family);
        }));

      it('a session id rotation (privilege change) deletes the old id’s family', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const a = await setupFamily(ctx, userId);
          const moved = await ctx.stores.sessionStore.rotateSessionId(
            a.session.sessionId,
            newUserScopedId(userId),
          );
          assert.ok(moved);
          await assertGone(ctx, a, 'rotated away');
        }));

      it('an expired session’s family goes at the next family create, or at cleanup', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const a = await setupFamily(ctx, userId, { sessionTtlMs: 300 });
          const b = await setupFamily(ctx, userId, { sessionTtlMs: 300 });
          await passTime(ctx, 300);
          // Still there (nothing ended it through the store), and refused.
          assert.equal((await rotate(ctx, a.family.familyId, a.tokenHash)).status, 'session_ended');
          const c = await setupFamily(ctx, userId);
          await assertGone(ctx, a, 'expired, then a login');
          await assertGone(ctx, b, 'expired, then a login');
          assert.deepEqual(await ctx.stores.refreshFamilies.get(c.family.familyId), c.family);

          const other = uniqueUserId();
          const d = await setupFamily(ctx, other, { sessionTtlMs: 300 });
          await passTime(ctx, 300);
          await ctx.stores.sessionStore.cleanupExpiredSessions();
          await assertGone(ctx, d, 'expired, then cleanup');
        }));

      it('a family never outlives its session’s absolute end', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const t = now(ctx);
          const session = makeSession(userId, { expiresAt: t + 300, absoluteExpiresAt: t + 600 }, t);
          await ctx.stores.sessionStore.createSession(session);
          const family = await ctx.stores.refreshFamilies.create({
            familyId: newUserScopedId(userId),
            userId,
            sessionId: session.sessionId,
            tokenHash: newTokenHash(),
            ttlSeconds: 30 * 24 * 3600,
          });
          assert.equal(family.expiresAt, session.absoluteExpiresAt);
          assert.deepEqual(await ctx.stores.refreshFamilies.get(family.familyId), family);
          await assertExpires(
            ctx,
            family.expiresAt - now(ctx),
            async () => (await ctx.stores.refreshFamilies.get(family.familyId)) !== null,
            'the family',
          );
        }));

      it('many logins and logouts leave at most the live sessions’ families', () =>
        withStores(makeStores, async (ctx) => {
          const userId = uniqueUserId();
          const created: string[] = [];
          for (let i = 0; i < 30; i++) {
            const t = now(ctx);
            const session = makeSession(userId, {}, t);
            await ctx.stores.sessionStore.createSession(session, { maxSessions: 3 });
            const family = await ctx.stores.refreshFamilies.create({
              familyId: newUserScopedId(userId),
              userId,
              sessionId: session.sessionId,
              tokenHash: newTokenHash(),
              ttlSeconds: 30 * 24 * 3600,
            });
            created.push(family.familyId);
            // Every other login logs out; the rest are evicted by the cap.
            if (i % 2 === 0) await ctx.stores.sessionStore.deleteSession(session.sessionId);
            await passTime(ctx, 1);
          }
          const left = [];
          for (const id of created) if ((await ctx.stores.refreshFamilies.get(id)) !== null) left.push(id);
          const live = await ctx.stores.sessionStore.getUserSessions(userId);
          assert.equal(live.length, 3);
          assert.deepEqual(new Set(left), new Set(created.filter((_, i) => i % 2 === 1).slice(-3)));
        }));
    });
  });
}
