/**
 * Every key the stores write, read back from Redis with SCAN: each matches a documented pattern,
 * keys that belong to a user carry exactly that user's hash tag `{userTag(userId)}` (so one script
 * can change them together on a Cluster node), and keys shared by all users carry no tag.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userTag } from '../../src/core/ids.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import { makeSession, makeTrustedDevice, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import { adminRedis } from '../helpers/redis-admin.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sharedClient } from './stores.js';

/** [pattern after the prefix, whether the key carries the user's tag] */
const LAYOUT: Array<[RegExp, 'user' | 'own' | 'none']> = [
  [/^session:\{([\w-]{16})\}\.[\w-]{22}$/, 'user'],
  [/^user:sessions:\{([\w-]{16})\}$/, 'user'],
  [/^token:family:\{([\w-]{16})\}\.[\w-]{22}$/, 'user'],
  [/^user:revoked_before:\{([\w-]{16})\}$/, 'user'],
  [/^user:families:\{([\w-]{16})\}$/, 'user'],
  [/^trusted:device:\{([\w-]{16})\}\.[\w.~@|+=-]+$/, 'user'],
  [/^user:trusted:\{([\w-]{16})\}$/, 'user'],
  [/^security:event:\{([\w-]{16})\}\.[\w-]{22}$/, 'user'],
  [/^user:security:\{([\w-]{16})\}$/, 'user'],
  [/^security:event:\{([\w-]{16})\}\.[\w-]{22}$/, 'own'],
  [/^meta:id_tag_secret$/, 'none'],
  [/^token:blacklist:[\w.~@|+=-]+$/, 'none'],
  [/^token:blacklist_index$/, 'none'],
  [/^token:revoked_families$/, 'none'],
  [/^device:sessions:[\w.~@|+=-]+$/, 'none'],
];

describe('Redis key layout', () => {
  it('every key written matches the layout and carries exactly its user’s hash tag', () =>
    checkLayout(uniqueUserId()));

  for (const odd of ['tenant:kim', 'Kim Lee {x}*?[', 'ユーザー😀']) {
    it(`a user id such as ${JSON.stringify(odd)} never reaches a key in clear, only as its tag`, () =>
      checkLayout(`${odd}-${uniqueUserId()}`));
  }
});

async function checkLayout(userId: string): Promise<void> {
  {
    const client = await sharedClient();
    const keyPrefix = uniquePrefix();
    // Sealed ids (as a deployment issues them): the keys still carry the plain tag.
    const ids = await loadIdCodec(client, { keyPrefix });
    const stores = createRedisStores(client, { keyPrefix, ids });
    const tag = userTag(userId);

    const a = { ...makeSession(userId), sessionId: ids.newId(userId) };
    const b = makeSession(userId); // an old-form id: same slot, same key layout
    await stores.sessionStore.createSession(a);
    await stores.sessionStore.createSession(b, { maxSessions: 5 });
    await stores.sessionStore.updateSession({ ...b, lastEndpoint: '/x' }, { extendTtl: true });
    const rotatedId = ids.newId(userId);
    await stores.sessionStore.rotateSessionId(b.sessionId, rotatedId);
    const family = await stores.refreshFamilies.create({
      familyId: ids.newId(userId),
      userId,
      sessionId: a.sessionId,
      tokenHash: 'h0',
      ttlSeconds: 3600,
    });
    await stores.refreshFamilies.rotate({
      familyId: family.familyId,
      presentedHash: 'h0',
      nextHash: 'h1',
      childBlob: 'c',
      graceMs: 0,
    });
    await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 60, userId, reason: 'x' });
    await stores.tokenBlacklist.revokeUserTokensBefore({ userId, beforeMs: 1, ttlSeconds: 60 });
    await stores.tokenBlacklist.blacklistTokenFamily({
      familyId: family.familyId,
      ttlSeconds: 60,
      reason: 'x',
    });
    await stores.trustedDevices.trust(makeTrustedDevice(userId));
    await stores.securityEvents.record({ type: 'session_created', userId });
    const unowned = await stores.securityEvents.record({ type: 'token_revoked', userId: null });
    await stores.maintenance.cleanup();

    const admin = await adminRedis();
    const keys: string[] = [];
    try {
      for await (const batch of admin.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 }))
        keys.push(...batch);
    } finally {
      await admin.close();
    }

    const seen = new Set<number>();
    for (const full of keys) {
      assert.ok(full.startsWith(keyPrefix), full);
      assert.ok(!full.includes(userId), `${full}: the user id in clear`);
      const key = full.slice(keyPrefix.length);
      const braces = (key.match(/[{}]/g) ?? []).length;
      const i = LAYOUT.findIndex(([pattern, kind]) => {
        const m = pattern.exec(key);
        if (!m) return false;
        if (kind === 'user') return m[1] === tag;
        if (kind === 'own') return m[1] === unowned.eventId.split('.')[0];
        return true;
      });
      assert.ok(i >= 0, `unexpected key or tag: ${key}`);
      seen.add(i);
      assert.equal(braces, LAYOUT[i]![1] === 'none' ? 0 : 2, `${key}: exactly one hash tag, or none`);
    }
    // Every kind of key was produced by the operations above (the layout has no dead entries).
    assert.deepEqual(
      [...seen].sort((x, y) => x - y),
      LAYOUT.map((_, i) => i),
    );
  }
}
