/**
 * Issue 14 §4: `POST /v1/token/refresh` says nothing about a family to a caller without one of its
 * refresh secrets. A real family id (visible in every access token's `fid`) with a made-up secret
 * gets the same 401 `ERR_REFRESH_INVALID` whether the family is live, revoked by logout, revoked by
 * reuse detection or revoked by a revoke-all; only the holder of a real secret learns
 * `ERR_REFRESH_REVOKED`. On both backends.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, uniqueUser } from './harness.js';

function familyOf(refreshToken: string): string {
  return refreshToken.slice(0, refreshToken.lastIndexOf('.'));
}

function madeUp(refreshToken: string): string {
  return `${familyOf(refreshToken)}.${randomBytes(32).toString('base64url')}`;
}

async function refresh(h: Harness, refreshToken: string) {
  return h.inject({ method: 'POST', url: '/v1/token/refresh', payload: { refreshToken } });
}

function suite(name: string, make: () => Promise<Harness>): void {
  describe(`refresh without the secret reveals nothing (${name})`, () => {
    test('a made-up secret for a live, logged-out, reused or revoke-all family: always ERR_REFRESH_INVALID', async () => {
      const h = await make();
      const answers: Record<string, [number, string]> = {};
      const probe = async (label: string, refreshToken: string) => {
        const res = await refresh(h, refreshToken);
        answers[label] = [res.statusCode, errorCode(res)];
      };

      const live = await h.login(uniqueUser('oracle'));
      await probe('live', madeUp(live.refreshToken));

      const loggedOut = await h.login(uniqueUser('oracle'));
      const revoke = await h.inject({
        method: 'POST',
        url: '/v1/revoke',
        payload: { token: loggedOut.refreshToken, token_type_hint: 'refresh_token' },
      });
      assert.equal(revoke.statusCode, 200);
      await probe('logged out', madeUp(loggedOut.refreshToken));

      const reused = await h.login(uniqueUser('oracle'));
      const r1 = await refresh(h, reused.refreshToken);
      assert.equal(r1.statusCode, 200);
      const r2 = await refresh(h, (r1.json() as { refreshToken: string }).refreshToken);
      assert.equal(r2.statusCode, 200);
      const theft = await refresh(h, reused.refreshToken);
      assert.equal(errorCode(theft), 'ERR_REFRESH_REUSED');
      await probe('reuse-revoked', madeUp(reused.refreshToken));

      const userId = uniqueUser('oracle');
      const all = await h.login(userId);
      const del = await h.inject({
        method: 'DELETE',
        url: `/v1/admin/users/${userId}/sessions`,
        headers: h.service,
      });
      assert.equal(del.statusCode, 200);
      await probe('revoke-all', madeUp(all.refreshToken));

      for (const [label, answer] of Object.entries(answers)) {
        assert.deepEqual(answer, [401, 'ERR_REFRESH_INVALID'], label);
      }

      // The holder of the real secret is told the truth: the family revoked by reuse detection.
      const own = await refresh(h, reused.refreshToken);
      assert.equal(own.statusCode, 401);
      assert.equal(errorCode(own), 'ERR_REFRESH_REVOKED');
      // A logged-out family went with its session (docs/data-model.md): its real secret is refused
      // as unknown.
      const gone = await refresh(h, loggedOut.refreshToken);
      assert.deepEqual([gone.statusCode, errorCode(gone)], [401, 'ERR_REFRESH_INVALID']);
    });
  });
}

suite('memory', () => createHarness());

describe('on Redis', async () => {
  const url = await getTestRedisUrl();
  const env = { REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
  suite('redis', () => createHarness(env));
});
