/**
 * Browser mode over HTTP (inject), on memory and on Redis: the hand-off code, the refresh cookie's
 * attributes, refresh and logout by cookie (the library's rotation: grace, theft detection), the
 * CSRF refusals, CORS headers and preflights, and browser mode off when CORS_ORIGINS is unset.
 * The same flow in a real browser: test/browser/browser-mode.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { BASE_ENV, createHarness, errorCode, type Harness, remember, uniqueUser } from './harness.js';

const APP = 'https://app.optix.example';
const OTHER = 'https://evil.example';
const COOKIE = '__Secure-optix_refresh';
const BROWSER = { origin: APP, 'x-optix-csrf': '1', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-site' };

/** The refresh cookie set by a response, or `null`; remembered as a secret for the log check. */
function setCookie(res: LightMyRequestResponse): { value: string; header: string } | null {
  const raw = res.headers['set-cookie'];
  const headers = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const header = headers.find((h) => h.startsWith(`${COOKIE}=`));
  if (header === undefined) return null;
  const value = header.slice(COOKIE.length + 1).split(';')[0]!;
  remember(value);
  return { value, header };
}

async function browserLogin(h: Harness, userId = uniqueUser('browser')) {
  const res = await h.inject({
    method: 'POST',
    url: '/v1/sessions',
    headers: h.service,
    payload: { userId, ipAddress: '203.0.113.9', userAgent: 'login-service/1.0', transport: 'browser' },
  });
  assert.equal(res.statusCode, 201, res.body);
  const body = res.json() as { handoffCode: string; session: { sessionId: string } };
  remember(body.handoffCode);
  return { userId, code: body.handoffCode, sessionId: body.session.sessionId, body: res.json() };
}

const exchange = (h: Harness, code: string, headers: Record<string, string> = BROWSER) =>
  h.inject({ method: 'POST', url: '/v1/browser/session', headers, payload: { code } });
const refresh = (h: Harness, cookie: string | null, headers: Record<string, string> = BROWSER) =>
  h.inject({
    method: 'POST',
    url: '/v1/browser/refresh',
    headers: cookie === null ? headers : { ...headers, cookie: `${COOKIE}=${cookie}` },
  });
const logout = (h: Harness, cookie: string, headers: Record<string, string> = BROWSER) =>
  h.inject({
    method: 'POST',
    url: '/v1/browser/logout',
    headers: { ...headers, cookie: `${COOKIE}=${cookie}` },
  });

/** Logged in by cookie: the cookie value and the access token. */
async function loggedIn(h: Harness) {
  const login = await browserLogin(h);
  const res = await exchange(h, login.code);
  assert.equal(res.statusCode, 200, res.body);
  const cookie = setCookie(res);
  assert.ok(cookie);
  return { ...login, cookie: cookie.value, accessToken: (res.json() as { accessToken: string }).accessToken };
}

function familyOf(h: Harness, accessToken: string): string {
  const fid = h.optix.jwt.decodeVerified(accessToken).fid;
  assert.equal(typeof fid, 'string');
  return fid as string;
}

function browserSuite(name: string, makeEnv: () => Promise<Record<string, string>>) {
  describe(`browser mode (${name})`, async () => {
    const env = { ...(await makeEnv()), CORS_ORIGINS: `${APP},http://127.0.0.1:3000` };
    const clock = new ManualClock(Date.now());
    const h = await createHarness(env, { clock });

    test('login with transport "browser" returns a one-time code, no tokens', async () => {
      const login = await browserLogin(h);
      assert.deepEqual(Object.keys(login.body).sort(), ['handoffCode', 'handoffExpiresIn', 'session']);
      assert.match(login.code, /^[A-Za-z0-9_-]{43}$/);
      assert.equal((login.body as { handoffExpiresIn: number }).handoffExpiresIn, 60);
    });

    test('the exchange sets an HttpOnly; Secure; SameSite=Strict cookie on /v1/browser and returns only the access token', async () => {
      const login = await browserLogin(h);
      const res = await exchange(h, login.code);
      assert.equal(res.statusCode, 200, res.body);
      const cookie = setCookie(res);
      assert.ok(cookie, 'a refresh cookie is set');
      const attrs = cookie.header.split(';').map((a) => a.trim().toLowerCase());
      for (const a of ['httponly', 'secure', 'samesite=strict', 'path=/v1/browser', 'max-age=2592000']) {
        assert.ok(attrs.includes(a), `${a} in ${cookie.header}`);
      }
      assert.ok(!attrs.some((a) => a.startsWith('domain=')), 'host-only');
      const body = res.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'tokenType']);
      assert.ok(!res.body.includes(cookie.value), 'the refresh token is in no body');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['access-control-allow-origin'], APP);
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      // The access token works, on the session that was created.
      const me = await h.inject({
        method: 'GET',
        url: '/v1/me/sessions',
        headers: { authorization: `Bearer ${body.accessToken}`, origin: APP },
      });
      assert.equal(me.statusCode, 200, me.body);
      assert.equal(
        (me.json() as { sessions: Array<{ sessionId: string }> }).sessions[0]!.sessionId,
        login.sessionId,
      );
      assert.equal(me.headers['access-control-allow-origin'], APP);
      assert.equal(me.headers['access-control-allow-credentials'], undefined);
    });

    test('a code is single-use, also under concurrency', async () => {
      const login = await browserLogin(h);
      const results = await Promise.all([1, 2, 3, 4].map(() => exchange(h, login.code)));
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401, 401, 401]);
      for (const r of results.filter((r) => r.statusCode === 401)) {
        assert.equal(errorCode(r), 'ERR_HANDOFF_INVALID');
        assert.equal(setCookie(r), null);
      }
      assert.equal(errorCode(await exchange(h, login.code)), 'ERR_HANDOFF_INVALID');
      assert.equal(errorCode(await exchange(h, 'not-a-code')), 'ERR_HANDOFF_INVALID');
    });

    test('a code expires after BROWSER_HANDOFF_TTL_SECONDS', async () => {
      const a = await browserLogin(h);
      const b = await browserLogin(h);
      clock.advance(59_999);
      assert.equal((await exchange(h, a.code)).statusCode, 200, 'just before');
      clock.advance(1);
      assert.equal(errorCode(await exchange(h, b.code)), 'ERR_HANDOFF_INVALID', 'at 60 s');
    });

    test('a code whose session ended before the exchange gives no tokens', async () => {
      const login = await browserLogin(h);
      const end = await h.inject({
        method: 'DELETE',
        url: `/v1/admin/sessions/${login.sessionId}`,
        headers: h.service,
      });
      assert.equal(end.statusCode, 204);
      assert.equal(errorCode(await exchange(h, login.code)), 'ERR_HANDOFF_INVALID');
    });

    test('refresh by cookie rotates it; the old cookie within grace gets the same pair; after grace it is theft', async () => {
      const s = await loggedIn(h);
      const r1 = await refresh(h, s.cookie);
      assert.equal(r1.statusCode, 200, r1.body);
      const c1 = setCookie(r1);
      assert.ok(c1 && c1.value !== s.cookie, 'a new cookie');
      assert.deepEqual(Object.keys(r1.json() as object).sort(), ['accessToken', 'expiresIn', 'tokenType']);
      assert.ok(!r1.body.includes(c1.value));
      // Two tabs: the old cookie again within grace → the same pair, no fork.
      const again = await refresh(h, s.cookie);
      assert.equal(again.statusCode, 200);
      assert.equal(setCookie(again)?.value, c1.value);
      assert.equal(
        (again.json() as { accessToken: string }).accessToken,
        (r1.json() as { accessToken: string }).accessToken,
      );
      // After the grace window the old cookie is a stolen one: family revoked, session ended.
      clock.advance(11_000);
      const theft = await refresh(h, s.cookie);
      assert.equal(errorCode(theft), 'ERR_REFRESH_REUSED');
      assert.match(setCookie(theft)?.header ?? '', /Max-Age=0|Expires=Thu, 01 Jan 1970/i, 'cookie cleared');
      assert.equal(errorCode(await refresh(h, c1.value)), 'ERR_REFRESH_REVOKED');
      const me = await h.inject({
        method: 'GET',
        url: '/v1/me/sessions',
        headers: { authorization: `Bearer ${(r1.json() as { accessToken: string }).accessToken}` },
      });
      assert.equal(errorCode(me), 'ERR_TOKEN_REVOKED');
    });

    test('refresh without a cookie is 401 ERR_REFRESH_INVALID', async () => {
      assert.equal(errorCode(await refresh(h, null)), 'ERR_REFRESH_INVALID');
    });

    test('logout by cookie revokes the family, ends the session and clears the cookie', async () => {
      const s = await loggedIn(h);
      const res = await logout(h, s.cookie);
      assert.equal(res.statusCode, 204, res.body);
      assert.match(setCookie(res)?.header ?? '', /Max-Age=0|Expires=Thu, 01 Jan 1970/i);
      const me = await h.inject({
        method: 'GET',
        url: '/v1/me/sessions',
        headers: { authorization: `Bearer ${s.accessToken}` },
      });
      assert.equal(errorCode(me), 'ERR_TOKEN_REVOKED');
      // The family went with the session: its cookie is refused as unknown.
      assert.equal(errorCode(await refresh(h, s.cookie)), 'ERR_REFRESH_INVALID');
      assert.equal(await h.optix.sessions.getSession(s.sessionId), null);
      // Idempotent: again, and without a cookie.
      assert.equal((await logout(h, s.cookie)).statusCode, 204);
      const bare = await h.inject({ method: 'POST', url: '/v1/browser/logout', headers: BROWSER });
      assert.equal(bare.statusCode, 204);
    });

    describe('CSRF: the cookie is refused, and untouched, unless the request is fetch from an allowed origin', () => {
      const refusals: Array<[string, Record<string, string>]> = [
        ['no Origin', { 'x-optix-csrf': '1' }],
        ['an origin not allowed', { ...BROWSER, origin: OTHER }],
        ['Origin "null" (sandboxed frame, file:)', { ...BROWSER, origin: 'null' }],
        ['an allowed origin with a path-like suffix', { ...BROWSER, origin: `${APP}.evil.example` }],
        ['no X-OPTIX-CSRF header', { origin: APP, 'sec-fetch-mode': 'cors' }],
        ['a navigation (form post)', { ...BROWSER, 'sec-fetch-mode': 'navigate' }],
        ['a no-cors request', { ...BROWSER, 'sec-fetch-mode': 'no-cors' }],
      ];
      for (const [what, headers] of refusals) {
        test(`refresh, logout and exchange refused with ${what}`, async () => {
          const s = await loggedIn(h);
          const family = familyOf(h, s.accessToken);
          const before = await h.optix.stores.refreshFamilies.get(family);
          const r = await refresh(h, s.cookie, headers);
          assert.equal(r.statusCode, 403);
          assert.equal(errorCode(r), 'ERR_ORIGIN_NOT_ALLOWED');
          assert.equal(setCookie(r), null, 'no cookie set or cleared');
          assert.equal(r.headers['access-control-allow-origin'], headers.origin === APP ? APP : undefined);
          assert.equal(errorCode(await logout(h, s.cookie, headers)), 'ERR_ORIGIN_NOT_ALLOWED');
          const after = await h.optix.stores.refreshFamilies.get(family);
          assert.deepEqual(after, before, 'the family was neither rotated nor revoked');
          assert.notEqual(await h.optix.sessions.getSession(s.sessionId), null, 'the session lives');
          const login = await browserLogin(h);
          assert.equal(errorCode(await exchange(h, login.code, headers)), 'ERR_ORIGIN_NOT_ALLOWED');
          assert.equal((await exchange(h, login.code)).statusCode, 200, 'the code was not spent');
        });
      }
    });

    describe('CORS', () => {
      const preflight = (
        url: string,
        origin: string,
        headers = 'content-type,x-optix-csrf',
        method = 'POST',
      ) =>
        h.inject({
          method: 'OPTIONS',
          url,
          headers: {
            origin,
            'access-control-request-method': method,
            'access-control-request-headers': headers,
          },
        });

      test('a preflight from an allowed origin is answered: origin echoed, credentials on cookie routes only', async () => {
        const res = await preflight('/v1/browser/refresh', APP);
        assert.equal(res.statusCode, 204);
        assert.equal(res.headers['access-control-allow-origin'], APP);
        assert.equal(res.headers['access-control-allow-credentials'], 'true');
        assert.match(String(res.headers['access-control-allow-methods']), /POST/);
        assert.match(String(res.headers['access-control-allow-headers']), /x-optix-csrf/);
        assert.match(String(res.headers.vary), /Origin/i);
        assert.equal(res.headers['access-control-max-age'], '600');
        const me = await preflight('/v1/me/sessions', 'http://127.0.0.1:3000', 'authorization', 'GET');
        assert.equal(me.statusCode, 204);
        assert.equal(me.headers['access-control-allow-origin'], 'http://127.0.0.1:3000');
        assert.equal(me.headers['access-control-allow-credentials'], undefined);
        assert.match(String(me.headers['access-control-allow-headers']), /authorization/);
      });

      test('a preflight from another origin is refused with no CORS header', async () => {
        for (const url of ['/v1/browser/refresh', '/v1/me/sessions', '/v1/browser/logout']) {
          const res = await preflight(url, OTHER);
          assert.equal(res.statusCode, 403, url);
          assert.equal(errorCode(res), 'ERR_ORIGIN_NOT_ALLOWED');
          for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith('access-control-'), name);
        }
      });

      test('service and admin routes never answer a browser, even an allowed origin', async () => {
        const res = await h.inject({
          method: 'POST',
          url: '/v1/sessions',
          headers: { ...h.service, origin: APP },
          payload: { userId: uniqueUser(), ipAddress: '203.0.113.9', userAgent: 'x' },
        });
        assert.equal(res.statusCode, 201);
        assert.equal(res.headers['access-control-allow-origin'], undefined);
        remember((res.json() as { refreshToken: string }).refreshToken);
        const pre = await preflight('/v1/admin/stats', APP, 'authorization', 'GET');
        assert.equal(pre.headers['access-control-allow-origin'], undefined);
        assert.notEqual(pre.statusCode, 204);
      });

      // CORS and cookies run only in the scope of the browser and /v1/me routes (app.ts): what
      // they gave other answers when they ran on every request is kept.
      test('every answer varies by Origin; a 404 or 405 on a browser or /v1/me path carries CORS for an allowed origin', async () => {
        const intro = await h.inject({
          method: 'POST',
          url: '/v1/introspect',
          headers: { ...h.service, origin: APP },
          payload: { token: 'not-a-token' },
        });
        assert.equal(intro.statusCode, 200);
        assert.equal(intro.headers.vary, 'Origin');
        assert.equal(intro.headers['set-cookie'], undefined);
        for (const name of Object.keys(intro.headers)) assert.ok(!name.startsWith('access-control-'), name);
        const cases = [
          { method: 'GET' as const, url: '/v1/me/nothing-here', status: 404, credentials: undefined },
          { method: 'PUT' as const, url: '/v1/me/sessions', status: 405, credentials: undefined },
          { method: 'GET' as const, url: '/v1/browser/nothing-here', status: 404, credentials: 'true' },
        ];
        for (const c of cases) {
          const res = await h.inject({ method: c.method, url: c.url, headers: { origin: APP } });
          assert.equal(res.statusCode, c.status, c.url);
          assert.equal(res.headers.vary, 'Origin', c.url);
          assert.equal(res.headers['access-control-allow-origin'], APP, c.url);
          assert.equal(res.headers['access-control-allow-credentials'], c.credentials, c.url);
          const other = await h.inject({ method: c.method, url: c.url, headers: { origin: OTHER } });
          assert.equal(other.statusCode, c.status, c.url);
          for (const name of Object.keys(other.headers)) assert.ok(!name.startsWith('access-control-'), name);
        }
        const elsewhere = await h.inject({
          method: 'GET',
          url: '/v1/nothing-here',
          headers: { origin: APP },
        });
        assert.equal(elsewhere.statusCode, 404);
        assert.equal(elsewhere.headers.vary, 'Origin');
        assert.equal(elsewhere.headers['access-control-allow-origin'], undefined);
      });

      test('a response to another origin carries no CORS header', async () => {
        const s = await loggedIn(h);
        const res = await h.inject({
          method: 'GET',
          url: '/v1/me/sessions',
          headers: { authorization: `Bearer ${s.accessToken}`, origin: OTHER },
        });
        assert.equal(res.statusCode, 200);
        for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith('access-control-'), name);
      });
    });
  });
}

browserSuite('memory', async () => ({}));
browserSuite('redis', async () => ({ REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() }));

describe('browser mode on Redis, two instances', async () => {
  const env = {
    REDIS_URL: await getTestRedisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix(),
    CORS_ORIGINS: APP,
  };
  const a = await createHarness(env);
  const b = await createHarness(env);

  test('a code created at A is exchanged at B once; the cookie refreshes at A and logs out at B', async () => {
    const login = await browserLogin(a);
    const [x, y] = await Promise.all([exchange(a, login.code), exchange(b, login.code)]);
    assert.deepEqual([x.statusCode, y.statusCode].sort(), [200, 401]);
    const won = x.statusCode === 200 ? x : y;
    const cookie = setCookie(won)!.value;
    const r = await refresh(a, cookie);
    assert.equal(r.statusCode, 200, r.body);
    const next = setCookie(r)!.value;
    assert.equal((await logout(b, next)).statusCode, 204);
    // The family went with the session (at B): refused at A as unknown.
    assert.equal(errorCode(await refresh(a, next)), 'ERR_REFRESH_INVALID');
  });

  test('the hand-off code is stored only as a hash', async () => {
    const login = await browserLogin(a);
    const keys: string[] = [];
    for await (const batch of a.optix.redis!.commands.scanIterator({
      MATCH: `${env.REDIS_KEY_PREFIX}*`,
      COUNT: 500,
    })) {
      keys.push(...batch);
    }
    assert.ok(keys.some((k) => k.includes('browser:handoff:')));
    assert.ok(!keys.some((k) => k.includes(login.code)), 'the code is in no key');
    for (const k of keys.filter((k) => k.includes('browser:handoff:'))) {
      const v = await a.optix.redis!.commands.get(k);
      assert.ok(!String(v).includes(login.code), 'the code is in no value');
    }
  });
});

describe('browser mode off (CORS_ORIGINS unset)', async () => {
  const h = await createHarness();

  test('no CORS header on any answer, preflights refused, transport "browser" refused, cookie routes 403', async () => {
    const pre = await h.inject({
      method: 'OPTIONS',
      url: '/v1/me/sessions',
      headers: { origin: APP, 'access-control-request-method': 'GET' },
    });
    assert.equal(pre.statusCode, 403);
    for (const name of Object.keys(pre.headers)) assert.ok(!name.startsWith('access-control-'), name);
    const login = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: { ...h.service, origin: APP },
      payload: { userId: uniqueUser(), ipAddress: '203.0.113.9', userAgent: 'x', transport: 'browser' },
    });
    assert.equal(login.statusCode, 400);
    assert.equal(errorCode(login), 'ERR_VALIDATION');
    const res = await refresh(h, null);
    assert.equal(errorCode(res), 'ERR_ORIGIN_NOT_ALLOWED');
    assert.match((res.json() as { error: { message: string } }).error.message, /CORS_ORIGINS/);
    for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith('access-control-'), name);
  });
});

describe('browser mode configuration', () => {
  test('CORS_ORIGINS takes exact origins and refuses wildcards, paths and other schemes', () => {
    const ok = loadConfig({
      ...BASE_ENV,
      CORS_ORIGINS: ' https://a.example , http://localhost:3000,https://a.example',
    });
    assert.deepEqual(ok.browser.corsOrigins, ['https://a.example', 'http://localhost:3000']);
    assert.deepEqual(loadConfig(BASE_ENV).browser.corsOrigins, []);
    for (const bad of [
      '*',
      'https://a.example/',
      'https://a.example/app',
      'a.example',
      'ftp://a.example',
      'https://*.a.example',
    ]) {
      assert.throws(
        () => loadConfig({ ...BASE_ENV, CORS_ORIGINS: bad }),
        { code: 'ERR_CONFIG', path: 'CORS_ORIGINS' },
        bad,
      );
    }
  });

  test('BROWSER_HANDOFF_TTL_SECONDS: 5 to 600, default 60', () => {
    assert.equal(loadConfig(BASE_ENV).browser.handoffTtlSeconds, 60);
    assert.equal(
      loadConfig({ ...BASE_ENV, BROWSER_HANDOFF_TTL_SECONDS: '120' }).browser.handoffTtlSeconds,
      120,
    );
    for (const bad of ['4', '601', 'x']) {
      assert.throws(() => loadConfig({ ...BASE_ENV, BROWSER_HANDOFF_TTL_SECONDS: bad }), {
        path: 'BROWSER_HANDOFF_TTL_SECONDS',
      });
    }
  });
});
