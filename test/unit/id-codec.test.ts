/**
 * Sealed user tags in generated ids (`createIdCodec`): the prefix of an id cannot be computed from
 * a guessed user id without the deployment's secret, opens to the plain tag with it, and anything
 * else (a tampered prefix, a non-canonical spelling, another deployment's id) is refused. Ids of
 * the old form keep parsing.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createIdCodec,
  fingerprintDigest,
  newUserScopedId,
  PLAIN_ID_CODEC,
  SEALED_TAG_CACHE_SIZE,
  trustedDeviceId,
  userTag,
} from '../../src/core/ids.js';
import { uniqueUserId } from '../helpers/fixtures.js';

const secretA = randomBytes(32);
const secretB = randomBytes(32);

function flip(s: string, at: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const c = s[at]!;
  const other = alphabet[(alphabet.indexOf(c) + 1) % 64]!;
  return s.slice(0, at) + other + s.slice(at + 1);
}

function invalidId(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => (err as { code?: string }).code === 'ERR_INVALID_ID');
}

describe('id codec (sealed user tags)', () => {
  it('an id shows neither the plain tag nor anything computable without the secret', () => {
    const a = createIdCodec(secretA);
    const b = createIdCodec(secretB);
    const userId = uniqueUserId();
    const idA = a.newId(userId);
    const idB = b.newId(userId);
    assert.match(idA, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    assert.ok(!idA.includes(userTag(userId)), 'the plain tag is not in the id');
    const [prefixA] = idA.split('.');
    assert.notEqual(prefixA, idB.split('.')[0], 'two deployments give the same user different prefixes');
    assert.equal(a.newId(userId).split('.')[0], prefixA, 'the same user, the same prefix in one deployment');
    assert.notEqual(a.newId(uniqueUserId()).split('.')[0], prefixA, 'another user, another prefix');
    assert.deepEqual(a.parse('sessionId', idA), { tag: userTag(userId), rest: idA.split('.')[1] });
  });

  it("another deployment's id, a tampered prefix or a non-canonical spelling is ERR_INVALID_ID", () => {
    const a = createIdCodec(secretA);
    const b = createIdCodec(secretB);
    const id = a.newId(uniqueUserId());
    invalidId(() => b.parse('sessionId', id));
    assert.equal(b.is(id), false);
    for (let i = 0; i < 22; i++) {
      const tampered = flip(id, i);
      invalidId(() => a.parse('sessionId', tampered));
      assert.equal(a.is(tampered), false, tampered);
    }
    // 22 base64url characters carry 132 bits: the spare 4 must be zero (one spelling per seal).
    const sealed = id.slice(0, 22);
    const last = sealed[21]!;
    const spare = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(last) | 1;
    const noncanonical = `${sealed.slice(0, 21)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[spare]}${id.slice(22)}`;
    assert.notEqual(noncanonical, id);
    invalidId(() => a.parse('sessionId', noncanonical));
    // The unkeyed codec reads only the old form.
    invalidId(() => PLAIN_ID_CODEC.parse('sessionId', id));
    invalidId(() => a.parse('sessionId', `${id}x`));
    invalidId(() => a.parse('sessionId', 42));
  });

  it('old-form ids (plain tag) keep parsing, to the same tag as a sealed id of the user', () => {
    const a = createIdCodec(secretA);
    const userId = uniqueUserId();
    const old = newUserScopedId(userId);
    assert.equal(a.parse('sessionId', old).tag, userTag(userId));
    assert.equal(a.parse('sessionId', a.newId(userId)).tag, a.parse('sessionId', old).tag);
    assert.equal(a.is(old), true);
  });

  it('keeps working past its cache bound, and refuses a secret shorter than 32 bytes', () => {
    const a = createIdCodec(secretA);
    const users = Array.from({ length: SEALED_TAG_CACHE_SIZE + 50 }, (_, i) => `cache-user-${i}`);
    const ids = users.map((u) => a.newId(u));
    for (const [i, id] of ids.entries()) {
      if (i % 97 === 0 || i < 5) assert.equal(a.parse('sessionId', id).tag, userTag(users[i]!));
    }
    assert.throws(() => createIdCodec(randomBytes(31)), RangeError);
  });

  it('parses ids one after another, the same one again, and a forgery right after its original', () => {
    const a = createIdCodec(secretA);
    const users = ['memo-user-1', 'memo-user-2', 'memo-user-3'];
    const ids = users.map((u) => a.newId(u));
    for (let round = 0; round < 3; round++) {
      for (const [i, id] of ids.entries()) {
        assert.equal(a.parse('sessionId', id).tag, userTag(users[i]!));
        assert.equal(a.parse('sessionId', id).tag, userTag(users[i]!));
        assert.equal(a.is(id), true);
        invalidId(() => a.parse('sessionId', flip(id, 3)));
        assert.equal(a.is(flip(id, 3)), false);
        assert.equal(a.parse('sessionId', id).rest, id.slice(23));
      }
    }
    // What a parse answers cannot be changed by a caller (the same object is handed out again).
    const parsed = a.parse('sessionId', ids[0]!);
    assert.ok(Object.isFrozen(parsed));
  });
});

describe('derived digests', () => {
  // Stored data depends on these (keys' hash tags, trusted-device ids, session records): they must
  // stay what the first versions computed with createHash, for any user id (UTF-8).
  const users = ['u-1', 'üser 名前', 'a\u{1F600}b', 'x'.repeat(300)];
  const fingerprints = ['fp', 'ü\u{1F600}', 'z'.repeat(600)];
  it('user tags, fingerprint digests and trusted-device ids are the published SHA-256 forms', () => {
    for (const u of users) {
      const tag = createHash('sha256').update('optix:user:').update(u).digest('base64url').slice(0, 16);
      assert.equal(userTag(u), tag);
      for (const f of fingerprints) {
        const device = createHash('sha256')
          .update('optix:device:')
          .update(u)
          .update('\0')
          .update(f)
          .digest('base64url')
          .slice(0, 22);
        assert.equal(trustedDeviceId(u, f), device);
        assert.equal(fingerprintDigest(f), createHash('sha256').update(f).digest('hex'));
      }
    }
  });
});
