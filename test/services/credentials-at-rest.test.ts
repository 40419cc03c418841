/**
 * Issue 2 §4: nothing that works as a credential is stored raw. Everything the services write to
 * Redis for a login, two refreshes (the second one repeated within the grace window, so a sealed
 * child is kept), a revocation and a trusted device is read back (every key under the test's
 * prefix, every value of every type) and searched for the credentials the callers held.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sha256 } from '../../src/core/ids.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { adminRedis } from '../helpers/redis-admin.js';
import { BACKENDS, TEST_SECRET } from './backends.js';

const redisBackend = BACKENDS.find((b) => b.name === 'redis')!;

/** Every key under `prefix` with its value(s) as text. */
async function dump(prefix: string): Promise<Map<string, string>> {
  const admin = await adminRedis();
  const out = new Map<string, string>();
  try {
    for await (const batch of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      for (const key of batch) {
        const type = await admin.type(key);
        let text: string;
        if (type === 'string') text = String(await admin.get(key));
        else if (type === 'hash') text = JSON.stringify(await admin.hGetAll(key));
        else if (type === 'zset') text = JSON.stringify(await admin.zRangeWithScores(key, 0, -1));
        else if (type === 'set') text = JSON.stringify(await admin.sMembers(key));
        else text = `(${type})`;
        out.set(key, text);
      }
    }
  } finally {
    await admin.close();
  }
  return out;
}

describe('credentials at rest in Redis', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  it('no refresh secret, access token or signing secret is stored; refresh tokens and trusted fingerprints as SHA-256 only', async () => {
    const { stores, clock, keyPrefix } = await redisBackend.make();
    assert.ok(keyPrefix);
    const jwt = createJwtService({
      stores,
      clock,
      keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
      issuer: 'optix-test',
      audience: 'optix-api',
    });
    const sessions = createSessionManager({ stores, clock });
    const userId = uniqueUserId();
    const fingerprint = 'raw-device-fingerprint-0123456789abcdef';
    const session = await sessions.createSession({
      userId,
      ipAddress: '203.0.113.50',
      userAgent: USER_AGENT,
      deviceFingerprint: fingerprint,
    });
    await sessions.trustDevice({
      userId,
      deviceFingerprint: fingerprint,
      deviceName: 'Laptop',
      deviceType: 'desktop',
    });
    const first = await jwt.issueTokenPair({ userId, sessionId: session.sessionId, email: 'a@example.com' });
    const second = await jwt.refreshTokens(first.refreshToken);
    const third = await jwt.refreshTokens(second.refreshToken);
    // The same presentation again within the grace window: the store keeps the child for it.
    assert.deepEqual(await jwt.refreshTokens(second.refreshToken), third);
    await jwt.revokeAccessToken(first.accessToken, 'user_logout');

    const stored = await dump(keyPrefix);
    assert.ok(stored.size >= 5, `keys written: ${[...stored.keys()].join(', ')}`);
    const everything = [...stored].map(([k, v]) => `${k} ${v}`).join('\n');

    const secretOf = (refreshToken: string) => refreshToken.slice(refreshToken.lastIndexOf('.') + 1);
    const forbidden: Array<[string, string]> = [[TEST_SECRET, 'the signing secret']];
    for (const [i, pair] of [first, second, third].entries()) {
      forbidden.push([pair.refreshToken, `refresh token ${i}`]);
      forbidden.push([secretOf(pair.refreshToken), `refresh secret ${i}`]);
      forbidden.push([pair.accessToken, `access token ${i}`]);
      forbidden.push([pair.accessToken.split('.')[2]!, `access token ${i} signature`]);
    }
    for (const [value, what] of forbidden) {
      assert.ok(!everything.includes(value), `${what} is stored in Redis`);
    }
    // The raw fingerprint is stored nowhere (it lets a trusted device skip MFA): the session keeps
    // its digest, the trusted device the SHA-256.
    assert.ok(!everything.includes(fingerprint), 'the raw device fingerprint is stored');
    const trusted = [...stored].filter(([k]) => /trusted/.test(k));
    assert.ok(trusted.length >= 1, 'trusted device keys');
    for (const [key, value] of trusted) {
      assert.ok(!value.includes(fingerprint), `${key} keeps the raw fingerprint`);
    }
    assert.ok(
      trusted.some(([, value]) => value.includes(sha256(fingerprint))),
      'the trusted device keeps the fingerprint’s hash',
    );
    // What is kept instead: the SHA-256 of the current refresh secret (a verifier, not a bearer).
    assert.ok(everything.includes(sha256(secretOf(third.refreshToken))), 'the current secret’s hash');
  });
});
