/**
 * `/v1/operator/*` (the operator console's API): only a token carrying ADMIN_ROLE gets data; every
 * action is an `admin_action` security event naming the operator and the reason; the overview
 * counts activity per minute, on memory and summed across two instances sharing Redis.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { createOptix } from '../../src/container.js';
import { createActivity } from '../../src/http/activity.js';
import { createMetrics } from '../../src/http/metrics.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { BASE_ENV, createHarness, errorCode, type Harness, uniqueUser } from './harness.js';

const ADMIN = { roles: ['optix:admin'], email: 'ops@example.com' };

const ROUTES: Array<[method: 'GET' | 'POST', url: (sid: string) => string, body?: object]> = [
  ['GET', () => '/v1/operator/me'],
  ['GET', () => '/v1/operator/users/someone'],
  ['GET', () => '/v1/operator/users/someone/events?limit=5'],
  ['GET', () => '/v1/operator/overview'],
  ['POST', (sid) => `/v1/operator/sessions/${sid}/end`, { reason: 'testing access' }],
  ['POST', () => '/v1/operator/users/someone/revoke', { reason: 'testing access' }],
];

async function lastHour(h: Harness, auth: { authorization: string }) {
  const res = await h.inject({ method: 'GET', url: '/v1/operator/overview', headers: auth });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

describe('/v1/operator on memory', async () => {
  const h = await createHarness();

  test('no data without the admin role: 401 without a token, 403 for a user, a service key is no operator', async () => {
    const user = await h.login(uniqueUser(), { roles: ['trader', 'optix:admin-ish'] });
    const victim = await h.login('someone');
    for (const [method, url, payload] of ROUTES) {
      const u = url(victim.sessionId);
      const none = await h.inject({ method, url: u, ...(payload ? { payload } : {}) });
      assert.equal(none.statusCode, 401, `${method} ${u}`);
      const forbidden = await h.inject({
        method,
        url: u,
        headers: user.user,
        ...(payload ? { payload } : {}),
      });
      assert.equal(forbidden.statusCode, 403, `${method} ${u}: ${forbidden.body}`);
      assert.equal(errorCode(forbidden), 'ERR_FORBIDDEN');
      assert.ok(!forbidden.body.includes(victim.sessionId));
      const service = await h.inject({ method, url: u, headers: h.service, ...(payload ? { payload } : {}) });
      assert.equal(service.statusCode, 401, `${method} ${u} with a service key`);
    }
    assert.equal((await h.introspect(victim.accessToken)).json().active, true, 'nothing was done');
  });

  test('an operator sees a user, ends a session and revokes everything; each is an admin_action event', async () => {
    const op = await h.login(uniqueUser('op'), ADMIN);
    const me = await h.inject({ method: 'GET', url: '/v1/operator/me', headers: op.user });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().role, 'optix:admin');
    const userId = uniqueUser();
    const a = await h.login(userId, { userAgent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/120.0' });
    const b = await h.login(userId);
    const seen = await h.inject({ method: 'GET', url: `/v1/operator/users/${userId}`, headers: op.user });
    assert.equal(seen.statusCode, 200);
    assert.equal(seen.headers['cache-control'], 'no-store');
    const windows = seen.json().sessions.find((s: { sessionId: string }) => s.sessionId === a.sessionId);
    assert.match(windows.client.summary, /Chrome on Windows/);
    assert.deepEqual(
      seen
        .json()
        .sessions.map((s: { sessionId: string }) => s.sessionId)
        .sort(),
      [a.sessionId, b.sessionId].sort(),
    );

    const noReason = await h.inject({
      method: 'POST',
      url: `/v1/operator/sessions/${a.sessionId}/end`,
      headers: op.user,
      payload: { reason: '   ' },
    });
    assert.equal(noReason.statusCode, 400, 'a reason is required');
    const end = await h.inject({
      method: 'POST',
      url: `/v1/operator/sessions/${a.sessionId}/end`,
      headers: op.user,
      payload: { reason: 'lost phone, ticket 42' },
    });
    assert.equal(end.statusCode, 200, end.body);
    assert.equal((await h.introspect(a.accessToken)).json().active, false);
    assert.equal((await h.introspect(b.accessToken)).json().active, true);
    const again = await h.inject({
      method: 'POST',
      url: `/v1/operator/sessions/${a.sessionId}/end`,
      headers: op.user,
      payload: { reason: 'lost phone, ticket 42' },
    });
    assert.equal(again.statusCode, 404);

    const revoke = await h.inject({
      method: 'POST',
      url: `/v1/operator/users/${userId}/revoke`,
      headers: op.user,
      payload: { reason: 'account takeover suspected' },
    });
    assert.deepEqual(revoke.json(), { ended: 1 });
    assert.equal((await h.introspect(b.accessToken)).json().active, false);

    const after = await h.inject({ method: 'GET', url: `/v1/operator/users/${userId}`, headers: op.user });
    assert.equal(after.json().nextUntil, null, 'one page');
    // Paged like /v1/me/security-events, with the user agent in words.
    const page = await h.inject({
      method: 'GET',
      url: `/v1/operator/users/${userId}/events?limit=2`,
      headers: op.user,
    });
    assert.equal(page.statusCode, 200, page.body);
    // At most 2 (fewer when events of one millisecond would be split between pages).
    assert.ok(page.json().events.length >= 1 && page.json().events.length <= 2);
    assert.equal(typeof page.json().nextUntil, 'number');
    const actions = after
      .json()
      .events.filter((e: { type: string }) => e.type === 'admin_action')
      .map((e: { details: Record<string, unknown>; severity: string }) => ({
        ...e.details,
        severity: e.severity,
      }));
    assert.deepEqual(actions, [
      {
        action: 'revoke_user',
        operator: (op.body.session as { userId: string }).userId,
        operatorEmail: 'ops@example.com',
        reason: 'account takeover suspected',
        sessionsEnded: 1,
        severity: 'warning',
      },
      {
        action: 'end_session',
        operator: (op.body.session as { userId: string }).userId,
        operatorEmail: 'ops@example.com',
        reason: 'lost phone, ticket 42',
        targetSessionId: a.sessionId,
        severity: 'warning',
      },
    ]);
  });

  test('the overview counts logins, refreshes, revocations and reuse of the current minute', async () => {
    const op = await h.login(uniqueUser('op'), ADMIN);
    const before = (await lastHour(h, op.user)).lastHour;
    const user = await h.login(uniqueUser());
    const r1 = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    assert.equal(r1.statusCode, 200);
    const revoked = await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: r1.json().accessToken, token_type_hint: 'access_token' },
    });
    assert.equal(revoked.statusCode, 200);
    const view = await lastHour(h, op.user);
    assert.equal(view.backend, 'memory');
    assert.equal(view.minutes.length, 60);
    assert.equal(view.redis, null);
    assert.equal(view.revocationCache.enabled, false);
    assert.deepEqual(
      {
        logins: view.lastHour.logins - before.logins,
        refreshes: view.lastHour.refreshes - before.refreshes,
        revocations: view.lastHour.revocations - before.revocations,
      },
      { logins: 1, refreshes: 1, revocations: 1 },
    );
    // The live-session sample is taken in the background on the first read of a minute.
    let sessions: number | null = null;
    for (let i = 0; i < 50 && sessions === null; i++) {
      sessions = (await lastHour(h, op.user)).minutes.at(-1).sessions;
      if (sessions === null) await new Promise((r) => setImmediate(r));
    }
    assert.ok(typeof sessions === 'number' && sessions >= 2, `sessions sampled: ${sessions}`);
  });

  test('a different ADMIN_ROLE is honoured', async () => {
    const other = await createHarness({ ADMIN_ROLE: 'ops:console' });
    const old = await other.login(uniqueUser(), ADMIN);
    assert.equal(
      (await other.inject({ method: 'GET', url: '/v1/operator/me', headers: old.user })).statusCode,
      403,
    );
    const op = await other.login(uniqueUser(), { roles: ['ops:console'] });
    assert.equal(
      (await other.inject({ method: 'GET', url: '/v1/operator/me', headers: op.user })).statusCode,
      200,
    );
  });
});

// `(redis)` in the name, as the other Redis suites: with REDIS_URL (and REDIS_TLS_CA_FILE) set it runs
// on any topology (run by hand on Cluster and on TLS with the service's ACL user).
describe('/v1/operator overview, two instances (redis)', async () => {
  const url = await getTestRedisUrl();
  const ca = process.env.REDIS_TLS_CA_FILE;
  const env = {
    REDIS_URL: url,
    REDIS_KEY_PREFIX: uniquePrefix(),
    ...(ca !== undefined && ca !== '' ? { REDIS_TLS_CA_FILE: ca } : {}),
  };
  const a = await createHarness(env);
  const b = await createHarness(env);

  test('counts made at either instance are summed in one minute bucket; Redis health is shown', async () => {
    const opA = await a.login(uniqueUser('op'), ADMIN);
    const opB = await b.login(uniqueUser('op'), ADMIN);
    const logins = [a, a, a, b, b];
    const users = [];
    for (const h of logins) users.push(await h.login(uniqueUser()));
    // A revocation at B (the refresh family of a login at A).
    const revoke = await b.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: users[0]!.refreshToken },
    });
    assert.equal(revoke.statusCode, 200);
    // Each instance's overview flushes its own counts first: read B, then A.
    await lastHour(b, opB.user);
    const view = await lastHour(a, opA.user);
    assert.equal(view.lastHour.logins, 2 + logins.length, 'two operators and five users, both instances');
    assert.equal(view.lastHour.revocations, 1);
    assert.equal(view.backend, 'redis');
    assert.equal(view.redis.status, 'healthy');
    assert.ok(['standalone', 'sentinel', 'cluster'].includes(view.redis.topology));
    assert.ok(view.redis.latencyMs >= 0);
    assert.ok(view.redis.usedMemoryBytes > 0);
    assert.ok(Array.isArray(view.redis.slowlog.entries));
    // A's and B's numbers agree once both have flushed.
    const fromB = await lastHour(b, opB.user);
    assert.deepEqual(fromB.lastHour, view.lastHour);
    // Verifications went through the revocation cache (REDIS_CLIENT_CACHE is on by default).
    for (const u of users.slice(1)) assert.equal((await a.introspect(u.accessToken)).json().active, true);
    for (const u of users.slice(1)) assert.equal((await a.introspect(u.accessToken)).json().active, true);
    const cached = await lastHour(a, opA.user);
    if (cached.revocationCache.enabled) {
      assert.ok(cached.revocationCache.hits > 0, JSON.stringify(cached.revocationCache));
      assert.ok(cached.revocationCache.hitRatio > 0 && cached.revocationCache.hitRatio <= 1);
    }
  });
});

describe('the /admin page', async () => {
  const h = await createHarness({ CORS_ORIGINS: 'https://app.example.com' });

  test('is a page with no data, under the strict CSP, and never framed by another origin', async () => {
    const page = await h.inject({ method: 'GET', url: '/admin' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'self'(;|$)/);
    assert.doesNotMatch(csp, /app\.example\.com/);
    assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
    assert.doesNotMatch(page.body, /<script>(?!<\/script>)|style=/, 'no inline script or style');
    // The account console may be framed by the browser-mode apps; the operator console may not.
    const account = await h.inject({ method: 'GET', url: '/account' });
    assert.match(account.headers['content-security-policy'] as string, /app\.example\.com/);
    const asset = await h.inject({ method: 'GET', url: '/console/admin/main.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(asset.body, /\/v1\/operator\/overview/);
  });
});

describe('activity recorder', () => {
  test('counts each event once, however many flushes run at once', async () => {
    const optix = await createOptix(loadConfig({ ...BASE_ENV, LOG_LEVEL: 'silent' }));
    const metrics = createMetrics({ defaultMetrics: false });
    const activity = createActivity(optix, metrics, { flushIntervalMs: 60_000 });
    try {
      metrics.sessionsCreated.inc(3);
      metrics.refreshes.inc({ outcome: 'rotated' }, 2);
      metrics.refreshes.inc({ outcome: 'invalid' }); // a refused refresh is not a refresh
      metrics.revocations.inc({ kind: 'user' });
      metrics.reuseDetections.inc();
      await Promise.all([activity.flush(), activity.flush()]);
      await activity.flush();
      const { lastHour } = await activity.overview();
      assert.deepEqual(lastHour, { logins: 3, refreshes: 2, revocations: 1, reuse: 1 });
    } finally {
      await activity.close();
      await optix.close();
    }
  });
});
