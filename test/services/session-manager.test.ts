import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { userTag } from '../../src/core/ids.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import type { SessionManagerOptions } from '../../src/services/types.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { BACKENDS, TEST_SECRET } from './backends.js';

const MIN = 60_000;

for (const backend of BACKENDS) {
  describe(`session manager (${backend.name})`, () => {
    async function setup(opts: Partial<SessionManagerOptions> = {}) {
      const { stores, clock } = await backend.make();
      const sessions = createSessionManager({ stores, clock, sessionTimeoutMinutes: 30, ...opts });
      const jwt = createJwtService({
        stores,
        clock,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
      });
      const userId = uniqueUserId();
      const login = (extra: Record<string, unknown> = {}) =>
        sessions.createSession({ userId, ipAddress: '192.168.1.1', userAgent: USER_AGENT, ...extra });
      return { stores, clock, sessions, jwt, userId, login };
    }

    it('refuses a bad reason or a missing input, typed, before ending anything', async () => {
      const { sessions, userId, login } = await setup();
      const s = await login();
      for (const call of [
        () => sessions.terminateSession(s.sessionId, ''),
        () => sessions.terminateSession(s.sessionId, 'r'.repeat(257)),
        () => sessions.terminateUserSessions({ userId, reason: 'r'.repeat(257) }),
        () => sessions.terminateUserSessions(undefined as never),
        () => sessions.trustDevice(null as never),
        () => sessions.validateSession(s.sessionId, null as never),
        () => sessions.listSecurityEvents(userId, null as never),
      ]) {
        await assert.rejects(call(), { code: 'ERR_INVALID_ARGUMENT' });
      }
      assert.equal((await sessions.listUserSessions(userId)).length, 1);
    });

    it('checks the id and endpoint of a warm validation as of a first one', async () => {
      const { sessions, login } = await setup();
      const s = await login();
      // Warm: the id has parsed and the endpoint was accepted before.
      assert.ok(await sessions.validateSession(s.sessionId, { endpoint: '/api/a' }));
      assert.ok(await sessions.validateSession(s.sessionId, { endpoint: '/api/a' }));
      for (const endpoint of ['/api/a\0', 'e'.repeat(513), 7 as never]) {
        await assert.rejects(sessions.validateSession(s.sessionId, { endpoint }), {
          code: 'ERR_INVALID_ARGUMENT',
        });
      }
      for (const id of [`${s.sessionId}x`, s.sessionId.slice(1), 'not-an-id', 42 as never]) {
        await assert.rejects(sessions.validateSession(id, { endpoint: '/api/a' }), {
          code: 'ERR_INVALID_ID',
        });
      }
      assert.ok(await sessions.validateSession(s.sessionId, { endpoint: '/api/a' }));
    });

    it('validates with a sliding idle timeout bounded by the absolute lifetime', async () => {
      const { sessions, clock, login } = await setup({
        sessionTimeoutMinutes: 30,
        absoluteLifetimeMinutes: 60,
      });
      const s = await login({ deviceFingerprint: 'fp-1', mfaVerified: true });
      assert.equal(s.mfaVerified, true);
      clock.advance(20 * MIN);
      const v1 = await sessions.validateSession(s.sessionId, { endpoint: '/api/trades' });
      assert.ok(v1 && !('unverified' in v1));
      assert.equal(v1.lastEndpoint, '/api/trades');
      assert.equal(v1.expiresAt, clock.now() + 30 * MIN);
      clock.advance(25 * MIN); // 45 min in: alive because activity slid the idle timeout
      const v2 = await sessions.validateSession(s.sessionId);
      assert.ok(v2 && !('unverified' in v2));
      assert.equal(v2.expiresAt, s.createdAt + 60 * MIN, 'never past the absolute lifetime');
      clock.advance(16 * MIN); // 61 min: past the absolute lifetime
      assert.equal(await sessions.validateSession(s.sessionId), null);
      const idle = await login();
      clock.advance(31 * MIN);
      assert.equal(await sessions.validateSession(idle.sessionId), null, 'idle timeout');
    });

    it('writes activity at most once per activityWriteIntervalSeconds, whatever the endpoint', async () => {
      const { sessions, clock, login, stores } = await setup({
        sessionTimeoutMinutes: 30,
        activityWriteIntervalSeconds: 15,
      });
      const s = await login();
      const stored = async () => (await stores.sessionStore.getSession(s.sessionId))!;
      clock.advance(5_000);
      await sessions.validateSession(s.sessionId);
      assert.equal((await stored()).lastActivity, s.createdAt, 'written 5 s after the last write');
      clock.advance(10_000);
      const v = await sessions.validateSession(s.sessionId);
      assert.ok(v && !('unverified' in v));
      assert.equal((await stored()).lastActivity, clock.now(), 'not written 15 s after the last write');
      assert.equal((await stored()).expiresAt, clock.now() + 30 * MIN);
      const written = clock.now();
      clock.advance(1_000);
      await sessions.validateSession(s.sessionId, { endpoint: '/api/orders' });
      assert.equal((await stored()).lastActivity, written, 'a new endpoint alone writes nothing');
      assert.equal((await stored()).lastEndpoint, null);
      clock.advance(14_000);
      await sessions.validateSession(s.sessionId, { endpoint: '/api/positions' });
      assert.equal((await stored()).lastActivity, clock.now(), 'written 15 s after the last write');
      assert.equal((await stored()).lastEndpoint, '/api/positions', 'with the endpoint of that use');
      // 0: every validation writes.
      const eager = createSessionManager({ stores, clock, activityWriteIntervalSeconds: 0 });
      clock.advance(1);
      await eager.validateSession(s.sessionId);
      assert.equal((await stored()).lastActivity, clock.now());
      assert.throws(() => createSessionManager({ stores, activityWriteIntervalSeconds: -1 }), ConfigError);
    });

    it('two instances validating one session at once write its activity once', async () => {
      const { stores, clock, login } = await setup({ sessionTimeoutMinutes: 30 });
      const a = createSessionManager({ stores, clock, sessionTimeoutMinutes: 30 });
      const b = createSessionManager({ stores, clock, sessionTimeoutMinutes: 30 });
      const s = await login();
      clock.advance(20_000);
      // Both read the session before either writes; the second write is held back by the store.
      const [va, vb] = await Promise.all([
        a.validateSession(s.sessionId, { endpoint: '/a' }),
        b.validateSession(s.sessionId, { endpoint: '/b' }),
      ]);
      assert.ok(va && vb, 'both see the session live');
      const stored = await stores.sessionStore.getSession(s.sessionId);
      assert.equal(stored?.lastEndpoint, '/a', 'the first write stands; the second wrote nothing');
      assert.equal(stored?.lastActivity, clock.now());
    });

    it('a refresh, and a verifyToken that opts in, slide the idle timeout; a plain verifyToken does not', async () => {
      const { stores, clock, sessions, login } = await setup({ sessionTimeoutMinutes: 1 });
      const jwt = createJwtService({
        stores,
        clock,
        sessions,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
      });
      const s = await login();
      let pair = await jwt.issueTokenPair({ userId: s.userId, sessionId: s.sessionId });
      // Refreshing every 20 s for 5 minutes: alive throughout.
      for (let i = 0; i < 15; i++) {
        clock.advance(20_000);
        pair = await jwt.refreshTokens(pair.refreshToken, { endpoint: 'refresh' });
      }
      assert.equal((await sessions.getSession(s.sessionId))?.lastEndpoint, 'refresh');
      // Verifying with recordActivity every 10 s for 5 minutes: alive throughout.
      for (let i = 0; i < 30; i++) {
        clock.advance(10_000);
        const v = await jwt.verifyToken(pair.accessToken, { recordActivity: { endpoint: 'gateway' } });
        assert.equal(v.payload.sid, s.sessionId);
      }
      assert.equal((await sessions.getSession(s.sessionId))?.lastEndpoint, 'gateway');
      // Plain verification is a read: the session ends a minute after the last recorded use.
      for (let i = 0; i < 7; i++) {
        clock.advance(10_000);
        if (i < 5) await jwt.verifyToken(pair.accessToken);
      }
      await assert.rejects(jwt.verifyToken(pair.accessToken, { recordActivity: true }), {
        code: 'ERR_TOKEN_REVOKED',
        reason: 'session_ended',
      });
      await assert.rejects(jwt.refreshTokens(pair.refreshToken), { code: 'ERR_REFRESH_INVALID' });
      // recordActivity needs the session manager.
      const bare = createJwtService({
        stores,
        clock,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
      });
      await assert.rejects(bare.verifyToken(pair.accessToken, { recordActivity: true }), {
        code: 'ERR_INVALID_ARGUMENT',
      });
    });

    it('a refresh records the use of the session its rotation found live, reading it only when a write is due', async () => {
      const { stores, clock } = await backend.make();
      let reads = 0;
      const inner = stores.sessionStore;
      const sessionStore = new Proxy(inner, {
        get(target, name) {
          const value = Reflect.get(target, name) as unknown;
          if (typeof value !== 'function') return value;
          if (name === 'getSession') {
            return (id: string) => {
              reads++;
              return target.getSession(id);
            };
          }
          return (value as (...a: unknown[]) => unknown).bind(target);
        },
      });
      const counted = { ...stores, sessionStore };
      const sessions = createSessionManager({
        stores: counted,
        clock,
        sessionTimeoutMinutes: 30,
        activityWriteIntervalSeconds: 60,
      });
      const jwt = createJwtService({
        stores: counted,
        clock,
        sessions,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
      });
      const s = await sessions.createSession({
        userId: uniqueUserId(),
        ipAddress: '192.0.2.1',
        userAgent: USER_AGENT,
      });
      let pair = await jwt.issueTokenPair({ userId: s.userId, sessionId: s.sessionId });
      clock.advance(10_000);
      pair = await jwt.refreshTokens(pair.refreshToken, { endpoint: 'refresh-1' });
      assert.equal(reads, 0, 'no write due: the rotation already found the session live');
      clock.advance(60_000);
      pair = await jwt.refreshTokens(pair.refreshToken, { endpoint: 'refresh-2' });
      assert.equal(reads, 1, 'a write is due: read and written as validateSession does');
      const after = await inner.getSession(s.sessionId);
      assert.equal(after?.lastEndpoint, 'refresh-2');
      assert.equal(after?.lastActivity, clock.now());
      // An ended session: the refresh fails and nothing is written.
      await sessions.terminateSession(s.sessionId, 'logout');
      await assert.rejects(jwt.refreshTokens(pair.refreshToken), { code: 'ERR_REFRESH_INVALID' });
    });

    it('evicts the oldest at the cap, or denies with the deny policy', async () => {
      const { sessions, clock, login, userId, stores } = await setup({ maxSessionsPerUser: 2 });
      const a = await login();
      clock.advance(1);
      const b = await login();
      clock.advance(1);
      const c = await login();
      const live = (await sessions.listUserSessions(userId)).map((s) => s.sessionId).sort();
      assert.deepEqual(live, [b.sessionId, c.sessionId].sort());
      assert.equal(await sessions.validateSession(a.sessionId), null);
      const events = await stores.securityEvents.listUserEvents(userId, { limit: 100 });
      assert.ok(events.some((e) => e.type === 'session_limit_eviction' && e.sessionId === a.sessionId));
      const deny = await setup({ maxSessionsPerUser: 1, sessionLimitPolicy: 'deny' });
      await deny.login();
      await assert.rejects(deny.login(), { code: 'ERR_SESSION_LIMIT' });
    });

    it('1,000 concurrent logins with a cap of 5 leave exactly 5 live sessions, equal to the index', async () => {
      const { sessions, login, userId, stores } = await setup({ maxSessionsPerUser: 5 });
      const created = await Promise.allSettled(Array.from({ length: 1000 }, () => login()));
      assert.equal(created.filter((r) => r.status === 'fulfilled').length, 1000);
      const live = await sessions.listUserSessions(userId);
      assert.equal(live.length, 5);
      const alive = await Promise.all(
        created.map(async (r) =>
          r.status === 'fulfilled' ? await stores.sessionStore.getSession(r.value.sessionId) : null,
        ),
      );
      const aliveIds = alive
        .filter((s) => s !== null)
        .map((s) => s!.sessionId)
        .sort();
      assert.deepEqual(aliveIds, live.map((s) => s.sessionId).sort());
    });

    it('the deny policy holds under concurrency: 200 concurrent logins with a cap of 5, exactly 5 succeed', async () => {
      const { sessions, login, userId, stores } = await setup({
        maxSessionsPerUser: 5,
        sessionLimitPolicy: 'deny',
      });
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => login()));
      const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.sessionId] : []));
      assert.equal(created.length, 5);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'ERR_SESSION_LIMIT');
      }
      const live = (await sessions.listUserSessions(userId)).map((s) => s.sessionId).sort();
      assert.deepEqual(live, created.sort());
      const stored = await Promise.all(created.map((id) => stores.sessionStore.getSession(id)));
      assert.ok(stored.every((s) => s !== null));
    });

    it('never resurrects a session terminated while validations race it', async () => {
      const { sessions, login } = await setup();
      for (let i = 0; i < 20; i++) {
        const s = await login();
        const [, ...rest] = await Promise.all([
          sessions.terminateSession(s.sessionId, 'logout'),
          ...Array.from({ length: 10 }, () => sessions.validateSession(s.sessionId)),
        ]);
        assert.equal(await sessions.getSession(s.sessionId), null);
        assert.equal(await sessions.validateSession(s.sessionId), null);
        assert.ok(rest.length === 10);
      }
    });

    it('session ids: the sealed user tag and 128 random bits (16 bytes from the CSPRNG), never repeated', async () => {
      const { sessions, login, userId, stores } = await setup({ maxSessionsPerUser: 200 });
      const created = await Promise.all(Array.from({ length: 100 }, () => login()));
      const rotated = await sessions.rotateSession(created[0]!.sessionId);
      const ids = [...created.map((s) => s.sessionId), rotated.sessionId];
      for (const id of ids) {
        const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(id);
        assert.ok(m, id);
        assert.ok(!m[1]!.startsWith(userTag(userId)), 'the plain tag is not shown');
        assert.equal(m[1], created[1]!.sessionId.split('.')[0], 'the same sealed tag for the same user');
        assert.equal(stores.ids.parse('sessionId', id).tag, userTag(userId), "it opens to the user's slot");
        const random = Buffer.from(m[2]!, 'base64url');
        assert.equal(random.length, 16, '128 random bits');
        assert.equal(random.toString('base64url'), m[2], 'canonical: no spare bits set');
      }
      assert.equal(new Set(ids.map((id) => id.split('.')[1])).size, ids.length, 'all distinct');
      // The random halves look random: over 101 × 128 bits, about half the bits are set.
      const bits = ids
        .map((id) => Buffer.from(id.split('.')[1]!, 'base64url'))
        .reduce(
          (n, b) => n + [...b].reduce((m, byte) => m + byte.toString(2).replaceAll('0', '').length, 0),
          0,
        );
      const total = ids.length * 128;
      assert.ok(Math.abs(bits / total - 0.5) < 0.05, `${bits} of ${total} bits set`);
    });

    it('rotates the session id: the old id is dead at once, tokens of the old id fail', async () => {
      const { sessions, jwt, login, userId } = await setup();
      const s = await login();
      const pair = await jwt.issueTokenPair({ userId, sessionId: s.sessionId });
      const moved = await sessions.rotateSession(s.sessionId);
      assert.notEqual(moved.sessionId, s.sessionId);
      assert.equal(moved.createdAt, s.createdAt);
      assert.equal(await sessions.getSession(s.sessionId), null);
      assert.ok(await sessions.getSession(moved.sessionId));
      await assert.rejects(jwt.verifyToken(pair.accessToken), { code: 'ERR_TOKEN_REVOKED' });
      await assert.rejects(sessions.rotateSession(s.sessionId), { code: 'ERR_SESSION_NOT_FOUND' });
    });

    it('terminates all sessions but the current one and their tokens stop verifying', async () => {
      const { sessions, jwt, login, userId } = await setup({ maxSessionsPerUser: 10 });
      const all = [];
      for (let i = 0; i < 4; i++) all.push(await login());
      const pairs = await Promise.all(all.map((s) => jwt.issueTokenPair({ userId, sessionId: s.sessionId })));
      const current = all[0]!;
      assert.equal(await sessions.terminateUserSessions({ userId, exceptSessionId: current.sessionId }), 3);
      await jwt.verifyToken(pairs[0]!.accessToken);
      for (const p of pairs.slice(1))
        await assert.rejects(jwt.verifyToken(p.accessToken), { code: 'ERR_TOKEN_REVOKED' });
      assert.deepEqual(
        (await sessions.listUserSessions(userId)).map((s) => s.sessionId),
        [current.sessionId],
      );
      assert.equal(await sessions.terminateUserSessions({ userId }), 1);
      assert.deepEqual(await sessions.listUserSessions(userId), []);
    });

    it('trusts, checks, lists and untrusts devices; expiry ends trust', async () => {
      const { sessions, clock, userId } = await setup();
      const d = await sessions.trustDevice({
        userId,
        deviceFingerprint: 'fingerprint_hash',
        deviceName: 'iPhone 13',
        deviceType: 'mobile',
        durationDays: 30,
      });
      assert.equal(await sessions.isDeviceTrusted(userId, 'fingerprint_hash'), true);
      assert.equal(await sessions.isDeviceTrusted(userId, 'other'), false);
      assert.equal(d.fingerprintHash.includes('fingerprint_hash'), false);
      assert.deepEqual(
        (await sessions.listTrustedDevices(userId)).map((x) => x.deviceId),
        [d.deviceId],
      );
      assert.equal(await sessions.untrustDevice(userId, d.deviceId), true);
      assert.equal(await sessions.isDeviceTrusted(userId, 'fingerprint_hash'), false);
      await sessions.trustDevice({
        userId,
        deviceFingerprint: 'fp2',
        deviceName: 'Mac',
        deviceType: 'desktop',
        durationDays: 1,
      });
      clock.advance(86_400_001);
      assert.equal(await sessions.isDeviceTrusted(userId, 'fp2'), false);
    });

    it('records the security events, with ids and context but no secrets', async () => {
      const { sessions, jwt, login, userId, stores, clock } = await setup({ maxSessionsPerUser: 1 });
      const s = await login({ deviceFingerprint: 'fp-a' });
      const pair = await jwt.issueTokenPair({ userId, sessionId: s.sessionId });
      clock.advance(1);
      const s2 = await login({ deviceFingerprint: 'fp-a' }); // evicts s; same device: not new
      await jwt.revokeAccessToken(pair.accessToken, 'user_logout');
      const t = await sessions.trustDevice({
        userId,
        deviceFingerprint: 'fp-a',
        deviceName: 'x',
        deviceType: 'y',
      });
      await sessions.untrustDevice(userId, t.deviceId);
      await sessions.terminateSession(s2.sessionId, 'logout');
      await login({ deviceFingerprint: 'fp-b' });
      await sessions.terminateUserSessions({ userId });
      const events = await stores.securityEvents.listUserEvents(userId, { limit: 100 });
      const types = new Set(events.map((e) => e.type));
      for (const t of [
        'session_created',
        'new_device',
        'session_limit_eviction',
        'token_revoked',
        'device_trusted',
        'device_untrusted',
        'session_terminated',
        'all_sessions_terminated',
      ]) {
        assert.ok(types.has(t), `missing ${t}`);
      }
      assert.equal(events.filter((e) => e.type === 'new_device').length, 2, 'fp-a once, fp-b once');
      const text = JSON.stringify(events);
      assert.equal(text.includes(pair.accessToken), false);
      assert.equal(text.includes(pair.refreshToken), false);
      for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.timestamp >= events[i]!.timestamp);
    });

    it('rejects bad input with typed errors before any store call', async () => {
      const { sessions, stores } = await setup();
      await assert.rejects(sessions.validateSession('x*y'), { code: 'ERR_INVALID_ID' });
      await assert.rejects(sessions.createSession({ userId: 'a\u0000b', ipAddress: '1', userAgent: 'u' }), {
        code: 'ERR_INVALID_ID',
      });
      await assert.rejects(
        sessions.createSession({ userId: 'ok', ipAddress: 'x'.repeat(100), userAgent: 'u' }),
        {
          code: 'ERR_INVALID_ARGUMENT',
        },
      );
      assert.throws(() => createSessionManager({ stores, sessionTimeoutMinutes: 0 }), ConfigError);
      assert.throws(() => createSessionManager({ stores, maxSessionsPerUser: 0 }), ConfigError);
    });
  });
}
