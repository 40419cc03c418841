/**
 * The Redis session record encoding (`src/stores/redis/records.ts`): every `Session` round-trips
 * exactly, in the compact form when it can and in JSON otherwise, and the compact form stays small.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { newUserScopedId, trustedDeviceId } from '../../src/core/ids.js';
import type { Session } from '../../src/core/types.js';
import { decodeSession, encodeSession } from '../../src/stores/redis/records.js';
import { makeFingerprint, makeSession, USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';

const USER_AGENTS = [
  USER_AGENT,
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0',
  'curl/8.5.0',
  '',
];

function roundTrip(session: Session): string {
  const value = encodeSession(session);
  assert.deepEqual(decodeSession(session.sessionId, value), session);
  return value;
}

describe('session record encoding', () => {
  it('a session the manager creates is compact: no JSON, no session id, device id derived', () => {
    const userId = uniqueUserId();
    const fingerprint = makeFingerprint();
    const session = makeSession(userId, {
      deviceId: trustedDeviceId(userId, fingerprint),
      deviceFingerprint: fingerprint,
      mfaVerified: true,
    });
    const value = roundTrip(session);
    assert.notEqual(value[0], '{');
    assert.ok(!value.includes(session.sessionId));
    assert.ok(!value.includes(session.deviceId!));
    assert.ok(!value.includes(fingerprint), 'hex fingerprint kept as base64url');
    // 14-character user id, 64-hex fingerprint, IPv4, the 110-character user agent: within 124
    // bytes, the largest value that fits jemalloc's 128-byte class.
    assert.ok(Buffer.byteLength(value) <= 124, `${Buffer.byteLength(value)} bytes: ${JSON.stringify(value)}`);
  });

  it('round-trips common user agents, nulls and a caller-supplied device id', () => {
    const userId = uniqueUserId();
    for (const userAgent of USER_AGENTS) {
      roundTrip(makeSession(userId, { userAgent }));
      roundTrip(makeSession(userId, { userAgent, deviceId: null, deviceFingerprint: null }));
      roundTrip(makeSession(userId, { userAgent, deviceFingerprint: 'ABC', lastEndpoint: '/api/x' }));
      roundTrip(makeSession(userId, { userAgent, deviceFingerprint: '', lastEndpoint: '' }));
    }
  });

  it('falls back to JSON for what the compact form cannot hold, and still round-trips', () => {
    const userId = uniqueUserId();
    const t = Date.now();
    const cases: Array<Partial<Session>> = [
      { userAgent: 'tab\there' },
      { ipAddress: '\u001f' },
      { lastEndpoint: 'lone \ud800 surrogate' },
      { createdAt: t + 0.5 },
      { lastActivity: t - 1 },
      { createdAt: -5, lastActivity: -5 },
    ];
    for (const overrides of cases) {
      const value = roundTrip(makeSession(userId, overrides, t));
      assert.equal(value[0], '{', JSON.stringify(overrides));
    }
  });

  it('round-trips any session (property)', () => {
    const userId = uniqueUserId();
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    // -0 is stored as 0 (as JSON always did).
    const time = fc
      .oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double({ noNaN: true, noDefaultInfinity: true }))
      .map((n) => (Object.is(n, -0) ? 0 : n));
    fc.assert(
      fc.property(
        fc.record({
          deviceId: fc.option(fc.stringMatching(/^[A-Za-z0-9._~@|+=-]{1,30}$/)),
          deviceFingerprint: fc.option(fc.oneof(text, fc.stringMatching(/^[0-9a-f]{0,64}$/))),
          ipAddress: text,
          userAgent: fc.oneof(text, fc.constantFrom(...USER_AGENTS)),
          lastEndpoint: fc.option(text),
          createdAt: time,
          lastActivity: time,
          expiresAt: time,
          absoluteExpiresAt: time,
          mfaVerified: fc.boolean(),
        }),
        (fields) => {
          roundTrip({ sessionId: newUserScopedId(userId), userId, ...fields });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a malformed value decodes to null', () => {
    const id = newUserScopedId(uniqueUserId());
    for (const value of [null, '', '{', '[]', 'a.b.c', 'x\u001fy', '{"userId":1}']) {
      assert.equal(decodeSession(id, value), null, String(value));
    }
  });
});
