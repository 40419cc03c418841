/**
 * OAuth 2.0 interop, driven the way standard clients do: oauth4webapi (discovery → refresh grant →
 * introspection → revocation) against the service listening on a port, on both backends and on two
 * instances sharing Redis; the RFC 6749 §5.2 error forms of the token endpoint; client
 * authentication (client_secret_basic, client_secret_post, Bearer service key) at introspection
 * and revocation; and introspection limits that fit a gateway.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, type Harness, remember, SERVICE_KEY, uniqueUser } from './harness.js';

const GATEWAY_SECRET = 'gateway-secret-0123456789abcdefghijklmnopqrstuv';
const RISK_SECRET = 'risk-engine-secret-0123456789abcdefghijklmnopq';
const LIMITED_SECRET = 'limited-client-secret-0123456789abcdefghijklm';
remember(GATEWAY_SECRET, RISK_SECRET, LIMITED_SECRET);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const OAUTH_ENV = {
  OAUTH_CLIENTS: `gateway:sha256:${sha(GATEWAY_SECRET)},risk-engine:sha256:${sha(RISK_SECRET)},limited:sha256:${sha(LIMITED_SECRET)}:100`,
};
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const insecure = { [oauth.allowInsecureRequests]: true } as const;

async function listen(h: Harness): Promise<URL> {
  const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
  return new URL(address);
}

/** Discovery as a client does it: the issuer URL is all it is given. */
async function discover(issuer: URL): Promise<oauth.AuthorizationServer> {
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  return oauth.processDiscoveryResponse(issuer, res);
}

const gateway: oauth.Client = { client_id: 'gateway' };
const riskEngine: oauth.Client = { client_id: 'risk-engine' };
const tradingApp: oauth.Client = { client_id: 'trading-app' }; // a public client

async function refresh(as: oauth.AuthorizationServer, refreshToken: string, scope?: string) {
  const res = await oauth.refreshTokenGrantRequest(as, tradingApp, oauth.None(), refreshToken, {
    ...insecure,
    ...(scope !== undefined ? { additionalParameters: { scope } } : {}),
  });
  const out = await oauth.processRefreshTokenResponse(as, tradingApp, res);
  remember(out.access_token, out.refresh_token);
  return out;
}

async function introspect(as: oauth.AuthorizationServer, token: string, how: 'basic' | 'post' = 'basic') {
  const [client, auth] =
    how === 'basic'
      ? [gateway, oauth.ClientSecretBasic(GATEWAY_SECRET)]
      : [riskEngine, oauth.ClientSecretPost(RISK_SECRET)];
  const res = await oauth.introspectionRequest(as, client, auth, token, insecure);
  return oauth.processIntrospectionResponse(as, client, res);
}

async function revoke(as: oauth.AuthorizationServer, token: string) {
  const res = await oauth.revocationRequest(
    as,
    gateway,
    oauth.ClientSecretBasic(GATEWAY_SECRET),
    token,
    insecure,
  );
  await oauth.processRevocationResponse(res);
}

/** The whole client flow; `a` and `b` may be one instance or two sharing Redis. */
async function clientFlow(a: Harness, b: Harness): Promise<void> {
  const asA = await discover(await listen(a));
  const asB = b === a ? asA : await discover(await listen(b));
  assert.equal(asA.grant_types_supported?.[0], 'refresh_token');
  assert.deepEqual(asA.introspection_endpoint_auth_methods_supported, [
    'client_secret_basic',
    'client_secret_post',
  ]);
  const login = await a.login(uniqueUser('tenant'), { permissions: ['trade', 'read'] });

  // Refresh through the standard grant, narrowing the scope.
  const first = await refresh(asA, login.refreshToken, 'read');
  assert.equal(first.token_type, 'bearer');
  assert.equal(first.scope, 'read');
  const narrowed = await introspect(asB, first.access_token);
  assert.equal(narrowed.active, true);
  assert.equal(narrowed.scope, 'read');
  // Without a scope the next refresh has the whole grant again (RFC 6749 §6).
  const second = await refresh(asB, String(first.refresh_token));
  const full = await introspect(asA, second.access_token, 'post');
  assert.equal(full.active, true);
  assert.equal(full.scope, 'trade read');
  assert.equal(full.sub, (await introspect(asB, login.accessToken)).sub);

  // Theft detection is the same as /v1/token/refresh: the old refresh token is refused.
  await assert.rejects(refresh(asA, String(first.refresh_token)), (err: unknown) => {
    assert.ok(err instanceof oauth.ResponseBodyError, String(err));
    assert.equal(err.error, 'invalid_grant');
    assert.equal(err.status, 400);
    return true;
  });

  // Revocation (RFC 7009) by the gateway ends the family at every instance.
  const live = await a.login(uniqueUser('tenant'));
  const pair = await refresh(asB, live.refreshToken);
  assert.equal((await introspect(asA, pair.access_token)).active, true);
  await revoke(asA, String(pair.refresh_token));
  assert.deepEqual(await introspect(asB, pair.access_token), { active: false });
  await assert.rejects(refresh(asB, String(pair.refresh_token)), oauth.ResponseBodyError);
}

describe('OAuth clients (oauth4webapi) on the memory backend', async () => {
  const h = await createHarness({ ...OAUTH_ENV, REFRESH_GRACE_SECONDS: '0' });
  test('discovery → refresh (scope narrowing) → introspect (basic, post) → revoke', async () => {
    await clientFlow(h, h);
  });
});

describe('OAuth clients (oauth4webapi) on two instances sharing Redis', async () => {
  const url = await getTestRedisUrl();
  const env = { ...OAUTH_ENV, REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix(), REFRESH_GRACE_SECONDS: '0' };
  const a = await createHarness(env);
  const b = await createHarness(env);
  test('discovery → refresh at A and B → introspect → revoke at A, inactive at B', async () => {
    await clientFlow(a, b);
  });
});

describe('a gateway introspecting at B every token minted by refreshes at A (first sight by watch)', async () => {
  const url = await getTestRedisUrl();
  // One machine, one clock: no skew allowance, so tokens minted right after start are answered
  // from what B has heard (REDIS_FIRST_SIGHT=watch, the default) instead of a read.
  const env = {
    ...OAUTH_ENV,
    REDIS_URL: url,
    REDIS_KEY_PREFIX: uniquePrefix(),
    REFRESH_GRACE_SECONDS: '0',
    MAX_CLOCK_SKEW_MS: '0',
  };
  const a = await createHarness(env);
  const b = await createHarness(env);
  test('each new token is active at its first introspection; one revoked at A before B ever saw it is not', async () => {
    const asA = await discover(await listen(a));
    const asB = await discover(await listen(b));
    for (let user = 0; user < 3; user++) {
      const login = await a.login(uniqueUser('gw'), { permissions: ['trade', 'read'] });
      assert.equal((await introspect(asB, login.accessToken)).active, true);
      let refreshToken = login.refreshToken;
      for (let i = 0; i < 5; i++) {
        const pair = await refresh(asA, refreshToken);
        refreshToken = String(pair.refresh_token);
        const seen = await introspect(asB, pair.access_token);
        assert.equal(seen.active, true, `refresh ${i}`);
        assert.equal(seen.scope, 'trade read');
      }
      // Revoked at A before B's first look, each way a gateway or app revokes.
      const access = await refresh(asA, refreshToken);
      await revoke(asA, access.access_token);
      assert.deepEqual(await introspect(asB, access.access_token), { active: false }, 'access token revoked');
      const family = await refresh(asA, String(access.refresh_token));
      await revoke(asA, String(family.refresh_token));
      assert.deepEqual(await introspect(asB, family.access_token), { active: false }, 'family revoked');
    }
    // Revoke-all at A: a token B never saw, minted before it, is inactive at B.
    const userId = uniqueUser('gw');
    const login = await a.login(userId);
    assert.equal((await introspect(asB, login.accessToken)).active, true);
    const unseen = await refresh(asA, login.refreshToken);
    const res = await a.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${encodeURIComponent(userId)}/sessions`,
      headers: { authorization: `Bearer ${SERVICE_KEY}` },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await introspect(asB, unseen.access_token), { active: false }, 'revoke-all');
  });
});

describe('authorization-server metadata', async () => {
  const h = await createHarness({ ...OAUTH_ENV, OAUTH_ISSUER_URL: 'https://sessions.example/' });
  test('lists the endpoints under OAUTH_ISSUER_URL, without a trailing slash', async () => {
    const res = await h.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.equal(res.statusCode, 200);
    const m = res.json();
    assert.equal(m.issuer, 'https://sessions.example');
    assert.equal(m.token_endpoint, 'https://sessions.example/v1/oauth/token');
    assert.equal(m.introspection_endpoint, 'https://sessions.example/v1/introspect');
    assert.equal(m.revocation_endpoint, 'https://sessions.example/v1/revoke');
    assert.equal(m.jwks_uri, undefined, 'HS256 only: no JWKS');
    assert.deepEqual(m.grant_types_supported, ['refresh_token']);
    assert.ok(m.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  });
  test('OAUTH_CLIENTS and OAUTH_ISSUER_URL are validated', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), SERVICE_API_KEYS: SERVICE_KEY };
    for (const bad of [
      'gateway:plain-secret',
      `a b:sha256:${sha('x')}`,
      `g:sha256:${sha('x')},g:sha256:${sha('y')}`,
    ]) {
      assert.throws(() => loadConfig({ ...base, OAUTH_CLIENTS: bad }), /OAUTH_CLIENTS/);
    }
    assert.throws(() => loadConfig({ ...base, OAUTH_ISSUER_URL: 'ftp://x' }), /OAUTH_ISSUER_URL/);
    assert.throws(
      () => loadConfig({ ...base, NODE_ENV: 'production', OAUTH_ISSUER_URL: 'http://x' }),
      /OAUTH_ISSUER_URL/,
    );
    const ok = loadConfig({ ...base, OAUTH_CLIENTS: `g:sha256:${sha('x')}:50` });
    assert.equal(ok.oauthClients[0]?.introspectPerMinute, 50);
    assert.ok(!JSON.stringify(ok).includes(sha('x')), 'no secret hash in the logged config');
  });
});

describe('token endpoint: RFC 6749 §5.2 errors', async () => {
  const h = await createHarness({ ...OAUTH_ENV, REFRESH_GRACE_SECONDS: '0' });
  const post = (payload: string, headers: Record<string, string> = {}) =>
    h.inject({
      method: 'POST',
      url: '/v1/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload,
    });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const oauthError = (res: Awaited<ReturnType<typeof post>>) => {
    const body = res.json();
    assert.equal(typeof body.error, 'string', res.body);
    assert.equal(typeof body.error_description, 'string');
    assert.equal(res.headers['cache-control'], 'no-store');
    return body.error as string;
  };

  test('unknown grant, missing fields, bad JSON', async () => {
    let res = await post(form({ grant_type: 'password', username: 'a' }));
    assert.equal(res.statusCode, 400);
    assert.equal(oauthError(res), 'unsupported_grant_type', 'unknown parameters are ignored (RFC 6749 §3.2)');
    res = await post(form({ grant_type: 'client_credentials' }));
    assert.equal(oauthError(res), 'unsupported_grant_type');
    res = await post(form({ refresh_token: 'x' }));
    assert.equal(oauthError(res), 'invalid_request');
    res = await post(form({ grant_type: 'refresh_token' }));
    assert.equal(oauthError(res), 'invalid_request');
    res = await h.inject({
      method: 'POST',
      url: '/v1/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: '{"grant_type":',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(oauthError(res), 'invalid_request');
  });

  test('an unknown, reused or revoked refresh token is invalid_grant; reuse still revokes the family', async () => {
    const login = await h.login(uniqueUser());
    let res = await post(form({ grant_type: 'refresh_token', refresh_token: 'made-up' }));
    assert.equal(res.statusCode, 400);
    assert.equal(oauthError(res), 'invalid_grant');
    res = await post(form({ grant_type: 'refresh_token', refresh_token: login.refreshToken }));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const child = res.json().refresh_token as string;
    remember(child, res.json().access_token);
    // A grace window of 0 ms still holds the rotation's own millisecond (the window is inclusive):
    // let the clock move past it, or the reuse is a grace retry that answers the same pair.
    const rotatedBy = Date.now();
    while (Date.now() <= rotatedBy) await new Promise((resolve) => setImmediate(resolve));
    res = await post(form({ grant_type: 'refresh_token', refresh_token: login.refreshToken }));
    assert.equal(oauthError(res), 'invalid_grant');
    // The reuse revoked the family: the child fails too, at /v1/token/refresh as well.
    res = await post(form({ grant_type: 'refresh_token', refresh_token: child }));
    assert.equal(oauthError(res), 'invalid_grant');
    const legacy = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: child },
    });
    assert.equal(legacy.statusCode, 401);
    assert.deepEqual((await h.introspect(login.accessToken)).json(), { active: false }, 'the session ended');
  });

  test('a scope wider than granted is invalid_scope, and the refresh token still works', async () => {
    const login = await h.login(uniqueUser(), { permissions: ['read'] });
    let res = await post(
      form({ grant_type: 'refresh_token', refresh_token: login.refreshToken, scope: 'read trade' }),
    );
    assert.equal(res.statusCode, 400);
    assert.equal(oauthError(res), 'invalid_scope');
    res = await post(form({ grant_type: 'refresh_token', refresh_token: login.refreshToken, scope: 'read' }));
    assert.equal(res.statusCode, 200, res.body);
    remember(res.json().refresh_token, res.json().access_token);
    assert.equal(res.json().scope, 'read');
  });

  test('client authentication: wrong secret → 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const login = await h.login(uniqueUser());
    const fields = form({ grant_type: 'refresh_token', refresh_token: login.refreshToken });
    let res = await post(fields, { authorization: basic('gateway', 'wrong-secret') });
    assert.equal(res.statusCode, 401);
    assert.equal(oauthError(res), 'invalid_client');
    assert.match(String(res.headers['www-authenticate']), /^Basic /);
    // A configured (confidential) client cannot pass as a public one by leaving out its secret.
    res = await post(
      form({ grant_type: 'refresh_token', refresh_token: login.refreshToken, client_id: 'gateway' }),
    );
    assert.equal(res.statusCode, 401);
    assert.equal(oauthError(res), 'invalid_client');
    // The right secret works, and the token was not consumed by the refused attempts.
    res = await post(fields, { authorization: basic('gateway', GATEWAY_SECRET) });
    assert.equal(res.statusCode, 200, res.body);
    remember(res.json().refresh_token, res.json().access_token);
  });
});

describe('client authentication at introspection and revocation', async () => {
  const h = await createHarness(OAUTH_ENV);
  const call = (url: string, headers: Record<string, string>, fields: Record<string, string>) =>
    h.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(fields).toString(),
    });

  test('basic, post and the Bearer service key are accepted; anything else is 401', async () => {
    const login = await h.login(uniqueUser());
    const token = login.accessToken;
    const ok = [
      call('/v1/introspect', { authorization: basic('gateway', GATEWAY_SECRET) }, { token }),
      call('/v1/introspect', {}, { token, client_id: 'risk-engine', client_secret: RISK_SECRET }),
      call('/v1/introspect', { authorization: `Bearer ${SERVICE_KEY}` }, { token }),
    ];
    for (const res of await Promise.all(ok)) {
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().active, true);
    }
    const refused = [
      call('/v1/introspect', { authorization: basic('gateway', RISK_SECRET) }, { token }),
      call('/v1/introspect', { authorization: basic('nobody', GATEWAY_SECRET) }, { token }),
      call('/v1/introspect', {}, { token, client_id: 'risk-engine', client_secret: 'wrong' }),
      call('/v1/introspect', {}, { token, client_id: 'gateway' }),
      call('/v1/introspect', {}, { token }),
    ];
    for (const res of await Promise.all(refused)) {
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(errorCode(res), 'ERR_UNAUTHORIZED');
    }
    // Two methods at once (RFC 6749 §2.3) is a client mistake.
    const both = await call(
      '/v1/introspect',
      { authorization: basic('gateway', GATEWAY_SECRET) },
      { token, client_id: 'risk-engine', client_secret: RISK_SECRET },
    );
    assert.equal(both.statusCode, 400);
  });

  test('revocation: anonymous still works; presented credentials are checked', async () => {
    const login = await h.login(uniqueUser());
    const wrong = await call(
      '/v1/revoke',
      { authorization: basic('gateway', 'nope') },
      { token: login.accessToken },
    );
    assert.equal(wrong.statusCode, 401);
    assert.equal(
      (await h.introspect(login.accessToken)).json().active,
      true,
      'a refused caller revoked nothing',
    );
    const ok = await call(
      '/v1/revoke',
      { authorization: basic('gateway', GATEWAY_SECRET) },
      { token: login.accessToken },
    );
    assert.equal(ok.statusCode, 200);
    assert.equal((await h.introspect(login.accessToken)).json().active, false);
  });
});

describe('gateways: introspection limits per client, in process', async () => {
  // At info, as deployed: a successful introspection logs at debug (trace logging of thousands of
  // requests would measure the log capture, not the service).
  const h = await createHarness({ ...OAUTH_ENV, LOG_LEVEL: 'info' });

  test('a gateway introspecting 6,500 times in well under a minute (past the old 6,000/min) is never throttled', async () => {
    const login = await h.login(uniqueUser());
    const headers = {
      authorization: basic('gateway', GATEWAY_SECRET),
      'content-type': 'application/x-www-form-urlencoded',
    };
    const payload = new URLSearchParams({ token: login.accessToken }).toString();
    const statuses = new Map<number, number>();
    const total = 6500;
    const started = performance.now();
    let sent = 0;
    // 500 requests/s paced for the first 2 s, then the rest as fast as the machine answers.
    const worker = async () => {
      while (sent < total) {
        sent += 1;
        const res = await h.app.inject({ method: 'POST', url: '/v1/introspect', headers, payload });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    };
    for (let tick = 0; tick < 20; tick++) {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 50 }, () => {
          sent += 1;
          return h.app
            .inject({ method: 'POST', url: '/v1/introspect', headers, payload })
            .then((res) => statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1));
        }),
      );
      const wait = 100 - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(Array.from({ length: 32 }, worker));
    const seconds = (performance.now() - started) / 1000;
    const perSecond = Math.round(total / seconds);
    console.log(
      `# gateway: ${total} introspections in ${seconds.toFixed(1)} s (${perSecond}/s): ${JSON.stringify([...statuses])}`,
    );
    assert.deepEqual([...statuses], [[200, total]]);
  });

  test('a configured per-client limit still trips, for that client only, with Retry-After', async () => {
    const login = await h.login(uniqueUser());
    const payload = new URLSearchParams({ token: login.accessToken }).toString();
    const as = (id: string, secret: string) =>
      h.inject({
        method: 'POST',
        url: '/v1/introspect',
        headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
        payload,
      });
    const codes: number[] = [];
    for (let i = 0; i < 101; i++) codes.push((await as('limited', LIMITED_SECRET)).statusCode);
    assert.deepEqual(codes.slice(0, 100), Array(100).fill(200));
    const last = await as('limited', LIMITED_SECRET);
    assert.equal(codes[100], 429);
    assert.equal(last.statusCode, 429);
    assert.equal(errorCode(last), 'ERR_RATE_LIMITED');
    assert.ok(Number(last.headers['retry-after']) >= 1);
    assert.equal((await as('gateway', GATEWAY_SECRET)).statusCode, 200, 'other clients keep their budget');
  });

  test('the audit identity of the client is in the request logs', async () => {
    const { capturedLogs } = await import('./harness.js');
    assert.ok(
      capturedLogs.some((l) => l.includes('"client":"client:limited"') && l.includes('request_rejected')),
    );
  });
});
