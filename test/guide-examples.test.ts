/**
 * The guide's usage examples (redis-integration-guide.md, "Usage"), in TypeScript, against both
 * backends, asserting what the guide says they do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { updateSessionActivity } from '../src/core/types.js';
import { newUserScopedId } from '../src/core/ids.js';
import { createJwtService } from '../src/services/jwt-service.js';
import { createSessionManager } from '../src/services/session-manager.js';
import { BACKENDS, TEST_SECRET } from './services/backends.js';
import { uniqueUserId } from './helpers/fixtures.js';

for (const backend of BACKENDS) {
  describe(`guide examples (${backend.name})`, () => {
    it('Token Blacklist: blacklist, check, revoke all user tokens, revoke a family', async () => {
      const { stores } = await backend.make();
      const blacklist = stores.tokenBlacklist;
      const userId = uniqueUserId();

      await blacklist.blacklistToken({
        jti: 'token_jti_123',
        ttlSeconds: 3600,
        userId,
        reason: 'user_logout',
      });
      const isRevoked = await blacklist.isBlacklisted('token_jti_123');
      assert.equal(isRevoked, true);
      const entry = await blacklist.getEntry('token_jti_123');
      assert.equal(entry?.reason, 'user_logout');
      assert.equal(entry?.userId, userId);
      assert.equal(entry!.expiresAt - entry!.revokedAt, 3600_000);
      assert.equal(await blacklist.isBlacklisted('token_jti_456'), false);

      const activeTokens = ['jti1', 'jti2', 'jti3'];
      const count = await blacklist.blacklistAllUserTokens({
        userId,
        tokenJtis: activeTokens,
        ttlSeconds: 3600,
        reason: 'user_logout_all',
      });
      assert.equal(count, 3);
      for (const jti of activeTokens) assert.equal(await blacklist.isBlacklisted(jti), true);

      const familyId = newUserScopedId(userId);
      await blacklist.blacklistTokenFamily({
        familyId,
        ttlSeconds: 2_592_000,
        reason: 'token_reuse_detected',
      });
      assert.equal(await blacklist.isFamilyRevoked(familyId), true);
    });

    it('Session Management: create, retrieve, update activity, terminate, list', async () => {
      const { stores, clock } = await backend.make();
      const store = stores.sessionStore;
      const userId = uniqueUserId();
      const now = clock.now();
      const session = {
        sessionId: newUserScopedId(userId),
        userId,
        deviceId: 'device_123',
        deviceFingerprint: 'fingerprint_hash',
        ipAddress: '192.168.1.1',
        userAgent: 'Mozilla/5.0...',
        createdAt: now,
        lastActivity: now,
        lastEndpoint: null,
        expiresAt: now + 3600_000,
        absoluteExpiresAt: now + 3600_000,
        mfaVerified: false,
      };
      await store.createSession(session);

      const found = await store.getSession(session.sessionId);
      assert.deepEqual(found, session);

      clock.advance(1000);
      const touched = updateSessionActivity(found!, clock.now(), '/api/trades');
      assert.equal(await store.updateSession(touched, { extendTtl: true }), true);
      assert.equal((await store.getSession(session.sessionId))?.lastEndpoint, '/api/trades');

      const sessions = await store.getUserSessions(userId, { activeOnly: true });
      assert.equal(sessions.length, 1);
      assert.deepEqual(
        (await store.getDeviceSessions('device_123')).map((s) => s.sessionId),
        [session.sessionId],
      );

      assert.ok(await store.deleteSession(session.sessionId));
      assert.equal(await store.getSession(session.sessionId), null);
      assert.deepEqual(await store.getUserSessions(userId, { activeOnly: true }), []);
    });

    it('Using Redis-integrated services: JWT service and session manager', async () => {
      const { stores } = await backend.make();
      const userId = uniqueUserId();
      const jwtService = createJwtService({
        stores,
        keys: [{ kid: 'main', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix',
        audience: 'optix-api',
      });

      const { token, record } = await jwtService.createAccessToken({
        userId,
        email: 'user@example.com',
        roles: ['user'],
        permissions: ['read', 'write'],
      });
      const { payload } = await jwtService.verifyToken(token);
      assert.equal(payload.sub, userId);
      assert.equal(payload.email, 'user@example.com');

      await jwtService.revokeToken({ jti: record.jti, ttlSeconds: 3600, userId, reason: 'security_concern' });
      await assert.rejects(jwtService.verifyToken(token), {
        code: 'ERR_TOKEN_REVOKED',
        reason: 'blacklisted',
      });

      const sessionManager = createSessionManager({
        stores,
        sessionTimeoutMinutes: 30,
        maxSessionsPerUser: 5,
      });
      const session = await sessionManager.createSession({
        userId,
        ipAddress: '192.168.1.1',
        userAgent: 'Mozilla/5.0...',
        deviceFingerprint: 'fingerprint_hash',
        mfaVerified: true,
      });
      const isValid = (await sessionManager.validateSession(session.sessionId)) !== null;
      assert.equal(isValid, true);

      const device = await sessionManager.trustDevice({
        userId,
        deviceFingerprint: 'fingerprint_hash',
        deviceName: 'iPhone 13',
        deviceType: 'mobile',
        durationDays: 30,
      });
      assert.equal(device.deviceName, 'iPhone 13');
      assert.equal(await sessionManager.isDeviceTrusted(userId, 'fingerprint_hash'), true);

      const other = await sessionManager.createSession({
        userId,
        ipAddress: '10.0.0.9',
        userAgent: 'curl/8',
      });
      const ended = await sessionManager.terminateUserSessions({
        userId,
        exceptSessionId: session.sessionId,
      });
      assert.equal(ended, 1);
      assert.equal(await sessionManager.validateSession(other.sessionId), null);
      assert.notEqual(await sessionManager.validateSession(session.sessionId), null);

      const stats = await jwtService.cleanupExpiredTokens();
      assert.equal(typeof stats.blacklistIndexEntries, 'number');
      const sessionStats = await sessionManager.cleanupExpiredSessions();
      assert.equal(typeof sessionStats.sessionIndexEntries, 'number');
    });
  });
}
