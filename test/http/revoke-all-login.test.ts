/**
 * Issue 14 §2: revoke-all, then log in again, driven over HTTP as the login service and an admin
 * would. Everything issued before the revoke call returned is refused, everything issued after it
 * is accepted, on every instance, whatever their clocks: the user's generation (a counter in the
 * store, carried by families and tokens) decides, not the instances' clocks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Clock, ManualClock } from '../../src/core/clock.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, type Harness, uniqueUser } from './harness.js';

const ROUNDS = 50;
/** Every round refreshes from one address: the per-address refresh limit is not under test. */
const NO_LIMITS = { RATE_LIMIT_REFRESH_PER_MINUTE: '0', RATE_LIMIT_REVOKE_PER_MINUTE: '0' };

/** A clock `offsetMs` away from the system clock (an instance whose host clock is skewed). */
function skewed(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs };
}

async function active(h: Harness, token: string): Promise<boolean> {
  const res = await h.introspect(token);
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { active: boolean }).active;
}

async function revokeAll(h: Harness, userId: string): Promise<void> {
  const res = await h.inject({
    method: 'DELETE',
    url: `/v1/admin/users/${userId}/sessions`,
    headers: h.service,
  });
  assert.equal(res.statusCode, 200, res.body);
}

/**
 * `ROUNDS` rounds of: login at A → revoke-all at A → login at B at once → the new token is active
 * on both (and refreshes at both), the old one on neither. Returns the failures seen.
 */
async function rounds(a: Harness, b: Harness): Promise<string[]> {
  const failures: string[] = [];
  const userId = uniqueUser('relogin');
  for (let i = 0; i < ROUNDS; i++) {
    const old = await a.login(userId);
    await revokeAll(a, userId);
    const fresh = await b.login(userId);
    for (const [name, h] of [
      ['A', a],
      ['B', b],
    ] as const) {
      if (!(await active(h, fresh.accessToken))) failures.push(`round ${i}: new token inactive at ${name}`);
      if (await active(h, old.accessToken)) failures.push(`round ${i}: old token active at ${name}`);
    }
    const me = await a.inject({ method: 'GET', url: '/v1/me/sessions', headers: fresh.user });
    if (me.statusCode !== 200) failures.push(`round ${i}: /v1/me at A answered ${me.statusCode}`);
    const oldRefresh = await b.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: old.refreshToken },
    });
    if (oldRefresh.statusCode === 200) failures.push(`round ${i}: old refresh token rotated at B`);
    const refreshed = await a.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: fresh.refreshToken },
    });
    if (refreshed.statusCode !== 200) {
      failures.push(`round ${i}: new refresh token refused at A (${refreshed.statusCode} ${refreshed.body})`);
    } else if (!(await active(b, (refreshed.json() as { accessToken: string }).accessToken))) {
      failures.push(`round ${i}: refreshed token inactive at B`);
    }
  }
  return failures;
}

describe('revoke-all, then log in again (memory)', () => {
  test('a login in the same millisecond as the revoke-all is accepted; the old token is not', async () => {
    // A clock that never moves: every login and the revoke-all happen in one millisecond.
    const h = await createHarness(NO_LIMITS, { clock: new ManualClock(Date.now()) });
    assert.deepEqual(await rounds(h, h), []);
  });

  test(`${ROUNDS} rounds on the system clock`, async () => {
    const h = await createHarness(NO_LIMITS);
    assert.deepEqual(await rounds(h, h), []);
  });

  test('a revoke-all through the CLI path (library call) lets the next login in at once', async () => {
    const h = await createHarness(NO_LIMITS, { clock: new ManualClock(Date.now()) });
    const userId = uniqueUser('cli');
    const old = await h.login(userId);
    await h.optix.jwt.revokeAllUserTokens(userId, 'cli_revoke_user');
    const fresh = await h.login(userId);
    assert.equal(await active(h, fresh.accessToken), true);
    assert.equal(await active(h, old.accessToken), false);
  });
});

describe('revoke-all, then log in again (two instances on Redis)', async () => {
  const url = await getTestRedisUrl();

  const pairs: Array<[string, number, number]> = [
    ['same clock', 0, 0],
    ['A 2 s ahead, B 2 s behind', 2_000, -2_000],
    ['A 2 s behind, B 2 s ahead', -2_000, 2_000],
  ];
  for (const [name, offsetA, offsetB] of pairs) {
    test(`${ROUNDS} rounds, ${name}`, async () => {
      const env = { ...NO_LIMITS, REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
      const a = await createHarness(env, { clock: skewed(offsetA) });
      const b = await createHarness(env, { clock: skewed(offsetB) });
      try {
        assert.deepEqual(await rounds(a, b), []);
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  test('frozen clocks (every call in one millisecond) on both instances', async () => {
    const env = { ...NO_LIMITS, REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
    const start = Date.now();
    const a = await createHarness(env, { clock: new ManualClock(start) });
    const b = await createHarness(env, { clock: new ManualClock(start) });
    try {
      assert.deepEqual(await rounds(a, b), []);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('clock tolerance between instances', async () => {
  const url = await getTestRedisUrl();

  test('a token minted by an instance 2 s ahead verifies at once on the default tolerance', async () => {
    const env = { ...NO_LIMITS, REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
    const ahead = await createHarness(env, { clock: skewed(2_000) });
    const behind = await createHarness(env, { clock: skewed(-2_000) });
    try {
      for (let i = 0; i < 20; i++) {
        const login = await ahead.login(uniqueUser('skew'));
        const res = await behind.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(await active(behind, login.accessToken), true);
      }
    } finally {
      await ahead.close();
      await behind.close();
    }
  });

  test('a revoked token does not verify again within exp..exp+tolerance', async () => {
    const clock = new ManualClock(Date.now());
    const h = await createHarness({ ...NO_LIMITS, ACCESS_TOKEN_TTL_SECONDS: '60' }, { clock });
    const login = await h.login(uniqueUser('tol'));
    const revoke = await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: login.accessToken },
    });
    assert.equal(revoke.statusCode, 200);
    // Just past exp, inside the default 5 s tolerance: still signed-valid, still revoked.
    clock.advance(61_000);
    assert.equal(await active(h, login.accessToken), false);
    clock.advance(3_000);
    assert.equal(await active(h, login.accessToken), false);
  });
});
