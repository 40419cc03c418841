/**
 * The library's flows on both backends: `login()` (a session and its tokens, or neither),
 * `loginWithHandoff()`, `revokeUser()` (tokens, then sessions) and `cleanup()` (one locked round; the fleet schedule; typed refusals).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBrowserHandoffs } from '../../src/services/browser-handoff.js';
import { cleanup } from '../../src/services/cleanup.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { LOGIN_UNDO_REASON, login, loginWithHandoff } from '../../src/services/login.js';
import { revokeUser } from '../../src/services/revoke-user.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import { USER_AGENT, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import { BACKENDS, TEST_JWT } from './backends.js';

for (const backend of BACKENDS) {
  describe(`library flows (${backend.name})`, () => {
    async function setup() {
      const { stores, clock } = await backend.make();
      const sessions = createSessionManager({ stores, clock });
      const jwt = createJwtService({ stores, clock, ...TEST_JWT });
      const handoffs = createBrowserHandoffs({ stores, jwt, sessions, ttlSeconds: 60 });
      return { stores, clock, sessions, jwt, handoffs, userId: uniqueUserId() };
    }

    it('login: a live session and its token pair, with the claims given', async () => {
      const { sessions, jwt, userId } = await setup();
      const { session, tokens } = await login(
        { sessions, jwt },
        { userId, ipAddress: '10.9.0.1', userAgent: USER_AGENT, roles: ['trader'], email: 'a@example.com' },
      );
      assert.equal(session.userId, userId);
      assert.notEqual(await sessions.getSession(session.sessionId), null);
      const claims = (await jwt.verifyToken(tokens.accessToken)).payload;
      assert.equal(claims.sid, session.sessionId);
      assert.deepEqual(claims.roles, ['trader']);
      assert.equal(claims.email, 'a@example.com');
      const rotated = await jwt.refreshTokens(tokens.refreshToken);
      assert.ok(rotated.accessToken);
    });

    it('login: when issuing fails, the session is ended (token_issue_failed) and the error rethrown', async () => {
      const { sessions, userId } = await setup();
      const boom = new Error('signing key unavailable');
      const failing = { issueTokenPair: async () => Promise.reject(boom) };
      await assert.rejects(
        login({ sessions, jwt: failing }, { userId, ipAddress: '10.9.0.2', userAgent: USER_AGENT }),
        (err) => err === boom,
      );
      assert.deepEqual(await sessions.listUserSessions(userId), []);
      const events = await sessions.listSecurityEvents(userId);
      const ended = events.find((e) => e.type === 'session_terminated');
      assert.equal(ended?.details?.reason, LOGIN_UNDO_REASON);
    });

    it('login: bad input is refused, typed, and nothing is created', async () => {
      const { sessions, jwt, userId } = await setup();
      await assert.rejects(
        login({ sessions, jwt }, { userId, ipAddress: 'x'.repeat(100), userAgent: USER_AGENT }),
        { code: 'ERR_INVALID_ARGUMENT' },
      );
      assert.deepEqual(await sessions.listUserSessions(userId), []);
      await assert.rejects(login({ sessions, jwt }, null as never), { code: 'ERR_INVALID_ARGUMENT' });
    });

    it('loginWithHandoff: a session and a one-time code that redeems to its pair', async () => {
      const { sessions, jwt, handoffs, userId } = await setup();
      const { session, handoff } = await loginWithHandoff(
        { sessions, handoffs },
        { userId, ipAddress: '10.9.0.3', userAgent: USER_AGENT, permissions: ['orders:read'] },
      );
      assert.equal(handoff.expiresIn, 60);
      const pair = await handoffs.redeem(handoff.code);
      const claims = (await jwt.verifyToken(pair.accessToken)).payload;
      assert.equal(claims.sid, session.sessionId);
      await assert.rejects(handoffs.redeem(handoff.code), { code: 'ERR_HANDOFF_INVALID' });
    });

    it('revokeUser: every token of the user stops verifying, every session ends; a login right after works', async () => {
      const { sessions, jwt, userId } = await setup();
      const a = await login({ sessions, jwt }, { userId, ipAddress: '10.9.0.1', userAgent: USER_AGENT });
      const b = await login({ sessions, jwt }, { userId, ipAddress: '10.9.0.2', userAgent: USER_AGENT });
      const other = await login(
        { sessions, jwt },
        { userId: uniqueUserId(), ipAddress: '10.9.0.3', userAgent: USER_AGENT },
      );
      assert.equal(await revokeUser({ sessions, jwt }, userId, 'password_changed'), 2);
      for (const { session, tokens } of [a, b]) {
        assert.equal(await sessions.getSession(session.sessionId), null);
        await assert.rejects(jwt.verifyToken(tokens.accessToken), { code: 'ERR_TOKEN_REVOKED' });
        await assert.rejects(jwt.refreshTokens(tokens.refreshToken));
      }
      await jwt.verifyToken(other.tokens.accessToken); // another user is untouched
      const again = await login({ sessions, jwt }, { userId, ipAddress: '10.9.0.4', userAgent: USER_AGENT });
      await jwt.verifyToken(again.tokens.accessToken);
      assert.equal(await revokeUser({ sessions, jwt }, uniqueUserId(), 'nothing_to_end'), 0);
    });

    it('cleanup: one round prunes the token index once, inside the round; a second finds nothing', async () => {
      const { stores, clock } = await setup();
      for (let i = 0; i < 3; i++) {
        await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 1, reason: 'x' });
      }
      clock.advance(2000);
      const progress: number[] = [];
      const first = await cleanup(stores, { onProgress: (scanned) => progress.push(scanned) });
      assert.equal(first.status, 'completed');
      assert.equal(first.stats.blacklistIndexEntries, 3);
      assert.ok(progress.length >= 1);
      const second = await cleanup(stores);
      assert.equal(second.status, 'completed');
      assert.equal(second.stats.blacklistIndexEntries, 0);
    });

    it('cleanup: notWithinMs skips a round started within the interval (not_due)', async () => {
      const { stores } = await setup();
      assert.equal((await cleanup(stores, { notWithinMs: 60_000 })).status, 'completed');
      const skipped = await cleanup(stores, { notWithinMs: 60_000 });
      assert.equal(skipped.status, 'skipped');
      assert.equal(skipped.status === 'skipped' && skipped.reason, 'not_due');
      assert.equal(skipped.stats.scanned, 0);
    });

    it('cleanup: a malformed notWithinMs or options is refused, typed', async () => {
      const { stores } = await setup();
      for (const notWithinMs of [0, -1, 1.5, Number.NaN, 86_400_001]) {
        await assert.rejects(cleanup(stores, { notWithinMs }), { code: 'ERR_INVALID_ARGUMENT' });
      }
      await assert.rejects(cleanup(stores, null as never), { code: 'ERR_INVALID_ARGUMENT' });
    });
  });
}
