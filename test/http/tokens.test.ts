/** Refresh, revoke (RFC 7009) and introspect (RFC 7662). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHarness, errorCode, SECOND_SERVICE_KEY, SERVICE_KEY, uniqueUser } from './harness.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /v1/token/refresh', async () => {
  const h = await createHarness();

  test('rotates: new pair, old access token still valid until revoked, new one active', async () => {
    const login = await h.login(uniqueUser());
    const res = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    assert.equal(res.statusCode, 200, res.body);
    const pair = res.json();
    assert.equal(pair.tokenType, 'Bearer');
    assert.equal(pair.expiresIn, 900);
    assert.notEqual(pair.refreshToken, login.refreshToken);
    assert.equal(res.headers['cache-control'], 'no-store');
    const intro = await h.introspect(pair.accessToken);
    assert.equal(intro.json().active, true);
  });

  test('the just-rotated token within the grace window returns the same pair', async () => {
    const login = await h.login(uniqueUser());
    const a = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    const b = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    assert.equal(a.statusCode, 200);
    assert.equal(b.statusCode, 200);
    assert.equal(b.json().refreshToken, a.json().refreshToken);
  });

  test('reuse of an older token → 401 ERR_REFRESH_REUSED, the family and its session die', async () => {
    const login = await h.login(uniqueUser());
    const r1 = (
      await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: login.refreshToken },
      })
    ).json();
    const r2 = (
      await h.inject({ method: 'POST', url: '/v1/token/refresh', payload: { refreshToken: r1.refreshToken } })
    ).json();
    const reuse = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    assert.equal(reuse.statusCode, 401, reuse.body);
    assert.equal(errorCode(reuse), 'ERR_REFRESH_REUSED');
    for (const token of [r2.accessToken, r1.accessToken, login.accessToken]) {
      const intro = await h.introspect(token);
      assert.deepEqual(intro.json(), { active: false });
    }
    const again = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: r2.refreshToken },
    });
    assert.equal(again.statusCode, 401);
    assert.match(errorCode(again), /^ERR_REFRESH_(REVOKED|REUSED|INVALID)$/);
    const metrics = await h.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /optix_refresh_reuse_detections_total [1-9]/);
  });

  test('garbage and unknown refresh tokens → 401 ERR_REFRESH_INVALID', async () => {
    for (const refreshToken of [
      'garbage',
      'a.b.c',
      'AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.CCCC',
      'x'.repeat(4000),
    ]) {
      const res = await h.inject({ method: 'POST', url: '/v1/token/refresh', payload: { refreshToken } });
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(errorCode(res), 'ERR_REFRESH_INVALID');
    }
  });

  test('bad bodies → 400', async () => {
    for (const payload of [{}, { refreshToken: '' }, { refreshToken: 5 }, { refreshToken: 'a', extra: 1 }]) {
      const res = await h.inject({ method: 'POST', url: '/v1/token/refresh', payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(errorCode(res), 'ERR_VALIDATION');
    }
  });
});

describe('POST /v1/revoke (RFC 7009)', async () => {
  const h = await createHarness();
  const introspect = async (token: string) => (await h.introspect(token)).json();

  test('revoking an access token (JSON) makes it inactive; 200 {}', async () => {
    const login = await h.login(uniqueUser());
    const res = await h.inject({ method: 'POST', url: '/v1/revoke', payload: { token: login.accessToken } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {});
    assert.deepEqual(await introspect(login.accessToken), { active: false });
  });

  test('revoking a refresh token (form) revokes its family: access tokens and refresh die', async () => {
    const login = await h.login(uniqueUser());
    const rotated = (
      await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: login.refreshToken },
      })
    ).json();
    const res = await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      headers: form,
      payload: `token=${encodeURIComponent(rotated.refreshToken)}&token_type_hint=refresh_token`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await introspect(login.accessToken), { active: false });
    assert.deepEqual(await introspect(rotated.accessToken), { active: false });
    const refresh = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: rotated.refreshToken },
    });
    assert.equal(refresh.statusCode, 401);
  });

  test('a wrong hint is only a hint', async () => {
    const login = await h.login(uniqueUser());
    await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: login.refreshToken, token_type_hint: 'access_token' },
    });
    assert.deepEqual(await introspect(login.accessToken), { active: false });
    const other = await h.login(uniqueUser());
    await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: other.accessToken, token_type_hint: 'refresh_token' },
    });
    assert.deepEqual(await introspect(other.accessToken), { active: false });
  });

  test('unknown, invalid and already revoked tokens → 200 (RFC 7009 §2.2)', async () => {
    const login = await h.login(uniqueUser());
    for (const token of ['nope', 'a.b.c', login.accessToken, login.accessToken, 'x'.repeat(8000)]) {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/revoke',
        payload: { token, token_type_hint: 'unsupported_kind' },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
  });

  test('a missing token → 400 ERR_VALIDATION (JSON and form)', async () => {
    let res = await h.inject({ method: 'POST', url: '/v1/revoke', payload: {} });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'ERR_VALIDATION');
    res = await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      headers: form,
      payload: 'token_type_hint=access_token',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'ERR_VALIDATION');
  });

  test('wrong content type → 415', async () => {
    const res = await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      headers: { 'content-type': 'text/plain' },
      payload: 'token=x',
    });
    assert.equal(res.statusCode, 415);
  });

  test('refresh takes JSON only: a form body is a 415 and rotates nothing', async () => {
    const login = await h.login(uniqueUser());
    const res = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      headers: form,
      payload: `refreshToken=${encodeURIComponent(login.refreshToken)}`,
    });
    assert.equal(res.statusCode, 415);
    assert.equal(errorCode(res), 'ERR_UNSUPPORTED_MEDIA_TYPE');
    const json = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    assert.equal(json.statusCode, 200, 'the token was not rotated by the refused form');
  });
});

describe('POST /v1/introspect (RFC 7662)', async () => {
  const h = await createHarness();

  test('an active token: sub, jti, sid, exp, iat, scope, token_type', async () => {
    const userId = uniqueUser();
    const login = await h.login(userId, {
      permissions: ['quotes:read'],
      roles: ['trader'],
      email: 'u@example.com',
    });
    const res = await h.inject({
      method: 'POST',
      url: '/v1/introspect',
      headers: { ...h.service, ...form },
      payload: `token=${login.accessToken}`,
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.active, true);
    assert.equal(body.sub, userId);
    assert.equal(body.sid, login.sessionId);
    assert.equal(body.scope, 'quotes:read');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(typeof body.jti, 'string');
    assert.ok(body.exp > body.iat);
    assert.deepEqual(body.roles, ['trader']);
    assert.equal(body.mfa, false);
  });

  test('introspection says whether the session was created with MFA verified', async () => {
    const login = await h.login(uniqueUser(), { mfaVerified: true });
    const body = (await h.introspect(login.accessToken)).json();
    assert.equal(body.active, true);
    assert.equal(body.mfa, true);
  });

  test('a token introspected again gets the same answer, headers included, until it is revoked', async () => {
    const login = await h.login(uniqueUser(), { roles: ['trader'], email: 'u@example.com' });
    const first = await h.introspect(login.accessToken);
    const again = await h.introspect(login.accessToken);
    for (const res of [first, again]) {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.json().active, true);
    }
    assert.equal(again.body, first.body);
    assert.deepEqual(Object.keys(first.json()), [
      'active',
      'sub',
      'jti',
      'sid',
      'exp',
      'iat',
      'iss',
      'aud',
      'scope',
      'token_type',
      'email',
      'roles',
      'mfa',
    ]);
    const revoked = await h.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: login.accessToken },
    });
    assert.equal(revoked.statusCode, 200);
    const after = await h.introspect(login.accessToken);
    assert.equal(after.body, '{"active":false}');
  });

  test('inactive tokens answer exactly {"active":false}', async () => {
    const login = await h.login(uniqueUser());
    const tampered = `${login.accessToken.slice(0, -4)}AAAA`;
    for (const token of [
      'garbage',
      'a.b.c',
      tampered,
      login.refreshToken,
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    ]) {
      const res = await h.introspect(token);
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, '{"active":false}');
    }
  });

  test('requires a service key: none, wrong, or a user token → 401', async () => {
    const login = await h.login(uniqueUser());
    for (const headers of [{}, { authorization: 'Bearer not-a-key-000000000000000000000000' }, login.user]) {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/introspect',
        headers,
        payload: { token: login.accessToken },
      });
      assert.equal(res.statusCode, 401);
      assert.equal(errorCode(res), 'ERR_UNAUTHORIZED');
    }
  });

  test('bad bodies → 400', async () => {
    for (const payload of [{}, { token: '' }, { token: ['a'] }, { token: 'x'.repeat(9000) }]) {
      const res = await h.inject({ method: 'POST', url: '/v1/introspect', headers: h.service, payload });
      assert.equal(res.statusCode, 400, res.body);
    }
  });
});

describe('rate limits (per client)', async () => {
  const h = await createHarness({
    RATE_LIMIT_REFRESH_PER_MINUTE: '3',
    RATE_LIMIT_REVOKE_PER_MINUTE: '2',
    RATE_LIMIT_INTROSPECT_PER_MINUTE: '2',
  });

  test('refresh: the 4th request in a minute → 429 ERR_RATE_LIMITED with Retry-After', async () => {
    const codes: number[] = [];
    let last = null as Awaited<ReturnType<typeof h.inject>> | null;
    for (let i = 0; i < 4; i++) {
      last = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: 'unknown' },
      });
      codes.push(last.statusCode);
    }
    assert.deepEqual(codes, [401, 401, 401, 429]);
    assert.equal(errorCode(last!), 'ERR_RATE_LIMITED');
    assert.ok(Number(last!.headers['retry-after']) > 0);
    // Another client address has its own budget.
    const other = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      remoteAddress: '198.51.100.7',
      payload: { refreshToken: 'unknown' },
    });
    assert.equal(other.statusCode, 401);
  });

  test('revoke is limited too', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await h.inject({ method: 'POST', url: '/v1/revoke', payload: { token: 'x' } })).statusCode);
    }
    assert.deepEqual(codes, [200, 200, 429]);
  });

  test('introspect is limited per service key', async () => {
    const login = await h.login(uniqueUser());
    const call = (key: string) =>
      h.inject({
        method: 'POST',
        url: '/v1/introspect',
        headers: { authorization: `Bearer ${key}` },
        payload: { token: login.accessToken },
      });
    assert.equal((await call(SERVICE_KEY)).statusCode, 200);
    assert.equal((await call(SERVICE_KEY)).statusCode, 200);
    assert.equal((await call(SERVICE_KEY)).statusCode, 429);
    assert.equal((await call(SECOND_SERVICE_KEY)).statusCode, 200);
    const metrics = await h.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /optix_rate_limited_total\{route="\/v1\/introspect"\} 1/);
  });
});
