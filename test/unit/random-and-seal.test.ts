/**
 * The pooled CSPRNG (`core/random.ts`) every generated id, secret and IV draws from, and the grace
 * seal of a refresh token's child (`services/jwt/refresh-token.ts`), whose key derivation is
 * written out as two HMACs: it must give the bytes `hkdfSync` gives.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { randomBuffer, randomToken } from '../../src/core/random.js';
import { newRefreshToken, openChild, sealChild } from '../../src/services/jwt/refresh-token.js';

describe('pooled random bytes', () => {
  it('hands out base64url tokens of the asked length, never the same bytes twice', () => {
    const seen = new Set<string>();
    // Well past several refills of the 4 KB pool, with odd sizes so draws straddle its end.
    for (let i = 0; i < 5000; i++) {
      const bytes = [16, 12, 32, 7][i % 4]!;
      const token = randomToken(bytes);
      assert.match(token, /^[A-Za-z0-9_-]+$/);
      assert.equal(Buffer.from(token, 'base64url').length, bytes);
      if (bytes >= 12) {
        assert.equal(seen.has(token), false);
        seen.add(token);
      }
    }
    assert.equal(Buffer.from(randomToken(), 'base64url').length, 16);
    assert.equal(Buffer.from(randomToken(1000), 'base64url').length, 1000);
  });

  it('gives Buffers of their own that look random', () => {
    const a = randomBuffer(12);
    const b = randomBuffer(12);
    assert.equal(a.length, 12);
    assert.notDeepEqual(a, b);
    a.fill(0);
    assert.notDeepEqual(b, Buffer.alloc(12));
    // Byte frequencies over 256 KB: every value appears, none wildly often (a stuck pool would not).
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 16_384; i++) for (const byte of randomBuffer(16)) counts[byte]!++;
    assert.ok(
      Math.min(...counts) > 800 && Math.max(...counts) < 1250,
      `${Math.min(...counts)}..${Math.max(...counts)}`,
    );
  });

  it('refuses sizes that are not positive integers', () => {
    assert.throws(() => randomToken(0), RangeError);
    assert.throws(() => randomBuffer(1.5), RangeError);
  });
});

describe('grace seal of the child', () => {
  const familyId = 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB';

  it('is AES-256-GCM under HKDF-SHA256(parent secret, salt family id): as hkdfSync derives it', () => {
    const parent = newRefreshToken(familyId);
    const blob = sealChild(parent.secret, familyId, 'the child pair');
    const buf = Buffer.from(blob, 'base64url');
    const key = Buffer.from(hkdfSync('sha256', parent.secret, familyId, 'optix-refresh-grace-v1', 32));
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
    decipher.setAuthTag(buf.subarray(12, 28));
    const plain = Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
    assert.equal(plain, 'the child pair');
    assert.equal(openChild(parent.secret, familyId, blob), 'the child pair');
  });

  it('opens only with the parent secret and family it was sealed for; each seal has its own IV', () => {
    const parent = newRefreshToken(familyId);
    const other = newRefreshToken(familyId);
    const blob = sealChild(parent.secret, familyId, 'x');
    assert.equal(openChild(other.secret, familyId, blob), null);
    assert.equal(openChild(parent.secret, 'CCCCCCCCCCCCCCCCCCCCCC.BBBBBBBBBBBBBBBBBBBBBB', blob), null);
    const again = sealChild(parent.secret, familyId, 'x');
    assert.notEqual(again.slice(0, 16), blob.slice(0, 16));
  });
});
