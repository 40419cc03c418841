/**
 * The guide's examples (redis-integration-guide.md), in TypeScript, asserting what the guide says
 * they do: "Architecture", "Usage" (Token Blacklist, Session Management, Using Redis-Integrated
 * Services) and "Cleanup and Maintenance" (manual cleanup, the background cleanup job) against
 * both backends; "Setup" §2–3 (configure the Redis URL, initialize the client), "Health Checks"
 * and "Load Testing" against Redis only. The Redis runs use the file's throwaway server, or
 * `REDIS_URL` (test/topologies runs the `(redis)` suites on Sentinel, Cluster and TLS).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readEnv } from '../src/config/env-file.js';
import { loadConfig } from '../src/config/load.js';
import { createOptix } from '../src/container.js';
import { isSessionExpired, updateSessionActivity } from '../src/core/types.js';
import { newUserScopedId } from '../src/core/ids.js';
import * as optixSessions from '../src/index.js';
import { parseRedisUrl } from '../src/connection/config.js';
import { createJwtService } from '../src/services/jwt-service.js';
import { createSessionManager } from '../src/services/session-manager.js';
import { BACKENDS, newRedisClient, TEST_SECRET } from './services/backends.js';
import { uniqueUserId } from './helpers/fixtures.js';
import { getTestRedisUrl, uniquePrefix } from './helpers/redis-server.js';

const MINUTE_MS = 60_000;

describe('guide examples: Architecture', () => {
  it('the five components are exported from the package entry (package.json exports["."] ← src/index.ts)', async () => {
    // RedisClient, RedisTokenBlacklist, RedisSessionStore, RedisJWTService, RedisSessionManager:
    // a class, two stores from one factory (and their in-memory twins), and two service factories.
    assert.equal(typeof optixSessions.RedisClient, 'function');
    for (const factory of [optixSessions.createRedisStores, optixSessions.createMemoryStores]) {
      assert.equal(typeof factory, 'function');
    }
    const stores = optixSessions.createMemoryStores();
    for (const port of ['tokenBlacklist', 'sessionStore', 'trustedDevices', 'securityEvents'] as const) {
      assert.equal(typeof stores[port], 'object', port);
    }
    assert.equal(typeof optixSessions.createJwtService, 'function');
    assert.equal(typeof optixSessions.createSessionManager, 'function');
    // The built entry is src/index.ts compiled to dist/ with its declarations.
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    const build = JSON.parse(readFileSync(new URL('../tsconfig.build.json', import.meta.url), 'utf8'));
    assert.equal(build.compilerOptions.rootDir, 'src');
    assert.equal(build.compilerOptions.outDir, 'dist');
  });
});

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

      // "if session and not session.is_expired(): # Session is valid"
      const found = await store.getSession(session.sessionId);
      assert.deepEqual(found, session);
      assert.ok(found && !isSessionExpired(found, clock.now()));

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

    it('Cleanup and Maintenance, manual cleanup: cleanup_expired_sessions and cleanup_expired count what expired', async () => {
      const { stores, clock } = await backend.make();
      const store = stores.sessionStore;
      const blacklist = stores.tokenBlacklist;
      const userId = uniqueUserId();
      const now = clock.now();
      const session = (expiresInMs: number) => ({
        sessionId: newUserScopedId(userId),
        userId,
        deviceId: 'device_123',
        deviceFingerprint: 'fingerprint_hash',
        ipAddress: '192.168.1.1',
        userAgent: 'Mozilla/5.0...',
        createdAt: now,
        lastActivity: now,
        lastEndpoint: null,
        expiresAt: now + expiresInMs,
        absoluteExpiresAt: now + expiresInMs,
        mfaVerified: false,
      });
      await store.createSession(session(MINUTE_MS));
      const lasting = session(60 * MINUTE_MS);
      await store.createSession(lasting);
      await blacklist.blacklistToken({ jti: 'token_jti_short', ttlSeconds: 60, reason: 'user_logout' });
      await blacklist.blacklistToken({ jti: 'token_jti_long', ttlSeconds: 3600, reason: 'user_logout' });
      assert.equal(await store.cleanupExpiredSessions(), 0, 'nothing has expired yet');
      assert.equal(await blacklist.cleanupExpired(), 0);

      clock.advance(MINUTE_MS);
      // count = await store.cleanup_expired_sessions(): the user and device index entries of one session
      assert.equal(await store.cleanupExpiredSessions(), 2);
      // count = await blacklist.cleanup_expired()
      assert.equal(await blacklist.cleanupExpired(), 1);
      assert.deepEqual(await store.getUserSessions(userId), [lasting]);
      assert.equal(await blacklist.isBlacklisted('token_jti_long'), true);
    });

    it('Background Cleanup Job: jwt_stats and session_stats report what each sweep removed', async () => {
      const { stores, clock } = await backend.make();
      const userId = uniqueUserId();
      const jwtService = createJwtService({
        stores,
        clock,
        keys: [{ kid: 'main', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix',
        audience: 'optix-api',
      });
      const sessionManager = createSessionManager({ stores, clock, sessionTimeoutMinutes: 30 });
      await sessionManager.createSession({
        userId,
        ipAddress: '192.168.1.1',
        userAgent: 'Mozilla/5.0...',
        deviceFingerprint: 'fingerprint_hash',
      });
      const { record } = await jwtService.createAccessToken({ userId });
      await jwtService.revokeToken({ jti: record.jti, ttlSeconds: 60, userId, reason: 'user_logout' });

      clock.advance(31 * MINUTE_MS); // past the token's blacklist TTL and the session's idle timeout
      const jwtStats = await jwtService.cleanupExpiredTokens();
      const sessionStats = await sessionManager.cleanupExpiredSessions();
      assert.equal(jwtStats.blacklistIndexEntries, 1);
      assert.ok(jwtStats.durationMs >= 0);
      assert.equal(sessionStats.sessionIndexEntries, 1);
      assert.equal(sessionStats.deviceIndexEntries, 1);
      assert.equal(sessionStats.blacklistIndexEntries, 0, 'the JWT sweep already removed it');
      assert.ok(sessionStats.scanned > 0);

      const again = await jwtService.cleanupExpiredTokens();
      assert.equal(again.blacklistIndexEntries, 0, 'a second run finds nothing');
      assert.equal((await sessionManager.cleanupExpiredSessions()).sessionIndexEntries, 0);
    });
  });
}

describe('guide examples (redis): Setup, Health Checks, Load Testing', () => {
  it('Setup §2–3: the .env of the guide configures the service, which connects at start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optix-guide-'));
    try {
      const envFile = join(dir, '.env');
      const tlsCa = process.env.REDIS_TLS_CA_FILE;
      writeFileSync(
        envFile,
        [
          '# Redis Configuration',
          `REDIS_URL=${await getTestRedisUrl()}`,
          'REDIS_MAX_CONNECTIONS=50',
          '',
          '# For production with password',
          '# REDIS_URL=redis://:password@localhost:6379/0',
          '',
          '# For Redis Cluster',
          '# REDIS_URL=redis://node1:6379,node2:6379,node3:6379/0',
          ...(tlsCa ? [`REDIS_TLS_CA_FILE=${tlsCa}`] : []),
          `REDIS_KEY_PREFIX=${uniquePrefix()}`,
          `JWT_SECRET=${TEST_SECRET}`,
          'LOG_LEVEL=silent',
          '',
        ].join('\n'),
      );
      const config = loadConfig(readEnv({ path: envFile, env: {} }));
      assert.equal(config.redis?.maxConnections, 50);
      // redis_client = await init_redis(): the composition root connects (or fails at start-up).
      const optix = await createOptix(config);
      try {
        assert.ok(optix.redis);
        assert.equal(optix.redis.isConnected, true);
        assert.ok((await optix.redis.ping()) >= 0);
      } finally {
        await optix.close();
      }
      // The commented forms parse as the guide means them.
      const withPassword = parseRedisUrl('redis://:password@localhost:6379/0');
      assert.equal(withPassword.topology, 'standalone');
      assert.equal(withPassword.password, 'password');
      assert.equal(withPassword.database, 0);
      const cluster = parseRedisUrl('redis://node1:6379,node2:6379,node3:6379/0');
      assert.equal(cluster.topology, 'cluster');
      assert.deepEqual(
        cluster.nodes.map((n) => `${n.host}:${n.port}`),
        ['node1:6379', 'node2:6379', 'node3:6379'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Health Checks: redis_health_check → healthy, connected clients, ops/s (and latency)', async () => {
    const client = await newRedisClient();
    assert.ok((await client.ping()) >= 0);
    const info = await client.info('stats');
    assert.equal(typeof info.instantaneous_ops_per_sec, 'number');
    const health = await client.healthCheck();
    assert.equal(health.status, 'healthy', health.error);
    assert.ok((health.connectedClients ?? 0) >= 1, `connected clients: ${health.connectedClients}`);
    assert.equal(typeof health.opsPerSec, 'number');
    assert.ok((health.latencyMs ?? -1) >= 0);
    assert.equal(health.error, undefined);
  });

  it('Load Testing: 10,000 SETs of test_key_<i> with a 60 s TTL, each readable and expiring', async () => {
    const client = await newRedisClient({ keyPrefix: uniquePrefix() });
    const N = 10_000;
    // "for i in range(10000): await client.set(f'test_key_{i}', f'value_{i}', ttl=60)", 100 at a time.
    for (let i = 0; i < N; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          client.set(`test_key_${i + j}`, `value_${i + j}`, { ttlSeconds: 60 }),
        ),
      );
    }
    for (const i of [0, 4321, N - 1]) assert.equal(await client.get(`test_key_${i}`), `value_${i}`);
    const ttl = await client.commands.pTTL(`${client.keyPrefix}test_key_0`);
    assert.ok(ttl > 0 && ttl <= 60_000, `PTTL ${ttl}`);
    assert.equal(await client.delete('test_key_0'), true);
    assert.equal(await client.get('test_key_0'), null);
    assert.equal(await client.delete('test_key_0'), false);
  });
});
