/**
 * The refresh-family hash keeps its last 32 rotated hashes in ring fields (`r0`..`r31`): these
 * tests pin the ring's bound and what each kind of hash does, on Redis.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { newUserScopedId } from '../../src/core/ids.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { makeSession, uniqueUserId } from '../helpers/fixtures.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sharedClient } from './stores.js';

async function familyWithHistory(rotations: number) {
  const clock = new ManualClock(Date.now());
  const stores = createRedisStores(await sharedClient(), { keyPrefix: uniquePrefix(), clock });
  const userId = uniqueUserId();
  const session = makeSession(userId, {}, clock.now());
  await stores.sessionStore.createSession(session);
  const hashes = ['h0'];
  const family = await stores.refreshFamilies.create({
    familyId: newUserScopedId(userId),
    userId,
    sessionId: session.sessionId,
    tokenHash: 'h0',
    ttlSeconds: 3600,
    claims: '{"roles":["trader"]}',
  });
  for (let i = 1; i <= rotations; i++) {
    const r = await stores.refreshFamilies.rotate({
      familyId: family.familyId,
      presentedHash: hashes[i - 1]!,
      nextHash: `h${i}`,
      childBlob: `c${i}`,
      graceMs: 0,
    });
    assert.equal(r.status, 'rotated');
    hashes.push(`h${i}`);
    clock.advance(1);
  }
  const rotate = (presentedHash: string) =>
    stores.refreshFamilies.rotate({
      familyId: family.familyId,
      presentedHash,
      nextHash: 'next',
      childBlob: 'c',
      graceMs: 0,
    });
  return { stores, family, hashes, rotate, session, clock };
}

describe('Redis refresh families: bounded token history', () => {
  it('claims are kept and returned', async () => {
    const { stores, family } = await familyWithHistory(1);
    assert.equal(family.claims, '{"roles":["trader"]}');
    assert.equal((await stores.refreshFamilies.get(family.familyId))?.claims, '{"roles":["trader"]}');
  });

  it('a hash among the last 32 rotated is reuse; an older or foreign one is invalid and changes nothing', async () => {
    const { stores, family, hashes, rotate, session } = await familyWithHistory(40);
    // h40 is current, h39 previous; the ring holds the 32 consumed hashes h8..h39.
    assert.deepEqual(await rotate('h7'), { status: 'invalid' });
    assert.deepEqual(await rotate('forged'), { status: 'invalid' });
    assert.equal((await stores.refreshFamilies.get(family.familyId))?.revoked, false);
    assert.ok(await stores.sessionStore.getSession(session.sessionId));
    const reused = await rotate(hashes[8]!);
    assert.equal(reused.status, 'reused');
    assert.equal(reused.status === 'reused' && reused.sessionEnded?.sessionId, session.sessionId);
    assert.equal(await stores.sessionStore.getSession(session.sessionId), null);
    assert.equal((await rotate('h40')).status, 'revoked');
  });

  it('checks run in order: invalid before session_ended, which applies to cur and prev only', async () => {
    const { stores, family, rotate, session, clock } = await familyWithHistory(3);
    // Ended by its idle expiry (ending it through the store would delete the family).
    clock.advance(session.expiresAt - clock.now());
    assert.deepEqual(await rotate('forged'), { status: 'invalid' });
    assert.equal((await rotate('h3')).status, 'session_ended', 'current');
    assert.equal((await rotate('h2')).status, 'session_ended', 'previous');
    const reused = await rotate('h1'); // an older hash: reuse even though the session is gone
    assert.equal(reused.status, 'reused');
    assert.equal(reused.status === 'reused' && reused.sessionEnded, null);
    assert.equal((await stores.refreshFamilies.get(family.familyId))?.revokedReason, 'token_reuse_detected');
  });

  it('revokeWithToken needs one of the family’s hashes; the first reason is kept', async () => {
    const { stores, family } = await familyWithHistory(3);
    assert.equal(
      await stores.refreshFamilies.revokeWithToken({
        familyId: family.familyId,
        presentedHash: 'nope',
        reason: 'logout',
      }),
      null,
    );
    assert.equal(await stores.tokenBlacklist.isFamilyRevoked(family.familyId), false);
    const revoked = await stores.refreshFamilies.revokeWithToken({
      familyId: family.familyId,
      presentedHash: 'h1',
      reason: 'logout',
    });
    assert.equal(revoked?.revoked, true);
    assert.equal(revoked?.revokedReason, 'logout');
    assert.equal(await stores.tokenBlacklist.isFamilyRevoked(family.familyId), true);
    const again = await stores.refreshFamilies.revokeWithToken({
      familyId: family.familyId,
      presentedHash: 'h3',
      reason: 'other',
    });
    assert.equal(again?.revokedReason, 'logout');
    assert.equal(
      await stores.refreshFamilies.revokeWithToken({
        familyId: newUserScopedId(uniqueUserId()),
        presentedHash: 'h1',
        reason: 'x',
      }),
      null,
    );
  });
});
