/** /healthz, /readyz, /metrics, /.well-known/jwks.json, /docs, unknown routes. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createHarness, errorCode, uniqueUser } from './harness.js';

describe('ops routes (memory backend)', async () => {
  const h = await createHarness();

  test('GET /healthz → 200 {status: ok}', async () => {
    const res = await h.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  test('GET /readyz → 200 ready; 503 draining once shutdown began', async () => {
    const res = await h.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready', backend: 'memory' });
    h.app.lifecycle.draining = true;
    try {
      const draining = await h.inject({ method: 'GET', url: '/readyz' });
      assert.equal(draining.statusCode, 503);
      assert.equal(draining.json().status, 'draining');
      assert.equal(draining.headers['retry-after'], '1', 'every 503 carries Retry-After (docs/errors.md)');
    } finally {
      h.app.lifecycle.draining = false;
    }
  });

  test('GET /metrics: Prometheus text with the service metrics', async () => {
    const login = await h.login(uniqueUser());
    await h.introspect(login.accessToken);
    await h.introspect('bad');
    await h.inject({ method: 'POST', url: '/v1/revoke', payload: { token: login.accessToken } });
    await h.inject({ method: 'POST', url: '/v1/me/logout', headers: login.user });
    const res = await h.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    for (const pattern of [
      /optix_http_requests_total\{method="POST",route="\/v1\/sessions",status_code="201"\} \d+/,
      /optix_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/v1\/introspect",status_code="200"\} \d+/,
      /optix_token_verifications_total\{outcome="valid"\} \d+/,
      /optix_token_verifications_total\{outcome="invalid"\} \d+/,
      /optix_revocations_total\{kind="access_token"\} \d+/,
      /optix_sessions_created_total \d+/,
      /# TYPE optix_sessions_ended_total counter/,
      /# TYPE optix_refresh_reuse_detections_total counter/,
      /# TYPE optix_redis_errors_total counter/,
      /optix_process_cpu_user_seconds_total/,
    ]) {
      assert.match(text, pattern);
    }
    assert.ok(!text.includes(login.sessionId), 'no ids in metric labels');
  });

  test('a verification that fails outside the error catalog is counted as error, not valid', async () => {
    const login = await h.login(uniqueUser());
    const count = async (outcome: string) => {
      const text = (await h.inject({ method: 'GET', url: '/metrics' })).body;
      const m = new RegExp(`optix_token_verifications_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const valid = await count('valid');
    const errors = await count('error');
    const jwt = h.optix.jwt as { verifyToken: unknown };
    const original = h.optix.jwt.verifyToken;
    jwt.verifyToken = async () => {
      throw new TypeError('a bug');
    };
    try {
      const me = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
      assert.equal(me.statusCode, 500);
      const intro = await h.introspect(login.accessToken);
      assert.equal(intro.statusCode, 500);
    } finally {
      jwt.verifyToken = original;
    }
    assert.equal(await count('valid'), valid, 'no valid verification counted');
    assert.equal(await count('error'), errors + 2);
  });

  test('GET /metrics: the request counter counts every request, scrape after scrape', async () => {
    const login = await h.login(uniqueUser());
    const introspections = (text: string) => {
      const labels = 'method="POST",route="/v1/introspect",status_code="200"';
      const count = (name: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      return {
        total: count('optix_http_requests_total'),
        histogram: count('optix_http_request_duration_seconds_count'),
      };
    };
    const before = introspections((await h.inject({ method: 'GET', url: '/metrics' })).body);
    for (let i = 0; i < 3; i++) await h.introspect(login.accessToken);
    const first = introspections((await h.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(first.total, before.total + 3);
    assert.equal(first.total, first.histogram);
    await h.introspect(login.accessToken);
    const second = introspections((await h.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(second.total, before.total + 4, 'a scrape does not add what an earlier one reported');
  });

  test('GET /.well-known/jwks.json is absent with HS256 only', async () => {
    const res = await h.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 404);
  });

  test('OpenAPI at /docs/json documents every route; Swagger UI at /docs', async () => {
    const res = await h.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const spec = res.json();
    assert.equal(spec.openapi, '3.1.0');
    const paths = Object.keys(spec.paths);
    for (const path of [
      '/v1/sessions',
      '/v1/token/refresh',
      '/v1/revoke',
      '/v1/introspect',
      '/v1/me/sessions',
      '/v1/me/sessions/{sessionId}',
      '/v1/me/logout',
      '/v1/me/logout-others',
      '/v1/me/devices',
      '/v1/me/devices/{deviceId}',
      '/v1/me/security-events',
      '/v1/admin/users/{userId}/sessions',
      '/v1/admin/sessions/{sessionId}',
      '/v1/admin/users/{userId}/security-events',
      '/v1/admin/stats',
      '/healthz',
      '/readyz',
      '/metrics',
    ]) {
      assert.ok(paths.includes(path), `${path} missing from ${paths.join(', ')}`);
    }
    assert.ok(spec.components.securitySchemes.serviceKey);
    assert.deepEqual(spec.paths['/v1/introspect'].post.security, [{ serviceKey: [] }, { oauthClient: [] }]);
    const ui = await h.inject({ method: 'GET', url: '/docs' });
    assert.equal(ui.statusCode, 200);
    assert.match(String(ui.headers['content-type']), /^text\/html/);
    assert.match(ui.body, /swagger/i);
    const css = await h.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
    assert.equal(css.statusCode, 200);
  });

  test('unknown routes → 404 ERR_NOT_FOUND', async () => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['POST', '/v1/sessions/extra'],
    ] as const) {
      const res = await h.inject({ method, url });
      assert.equal(res.statusCode, 404);
      assert.equal(errorCode(res), 'ERR_NOT_FOUND');
    }
  });

  test('a wrong method on a known path → 405 ERR_METHOD_NOT_ALLOWED with Allow', async () => {
    for (const [method, url, allow] of [
      ['PUT', '/v1/sessions', 'POST'],
      ['GET', '/v1/introspect', 'POST'],
      ['DELETE', '/v1/revoke?x=1', 'POST'],
      ['POST', '/v1/me/sessions', 'GET, HEAD'],
      ['PATCH', '/v1/me/sessions/anything', 'DELETE'],
      ['POST', '/v1/admin/users/tenant%3Akim/sessions', 'DELETE, GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
    ] as const) {
      const res = await h.inject({ method, url });
      assert.equal(res.statusCode, 405, `${method} ${url} → ${res.body}`);
      assert.equal(errorCode(res), 'ERR_METHOD_NOT_ALLOWED');
      assert.equal(res.headers.allow, allow, `${method} ${url}`);
    }
  });

  test('a bad URL → 4xx, never 500', async () => {
    for (const url of ['/v1/me/sessions/%E0%A4%A', '/v1/admin/users/%/sessions']) {
      const res = await h.inject({ method: 'GET', url, headers: h.service });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} → ${res.statusCode} ${res.body}`);
    }
  });
});

describe('JWKS with an EdDSA signing key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'optix-jwks-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'ed25519.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const h = await createHarness({
    JWT_SECRET: '',
    JWT_PRIVATE_KEY_FILE: keyFile,
    JWT_ALG: 'EdDSA',
    JWT_KID: 'ed-1',
  });

  test('GET /.well-known/jwks.json serves the public key; tokens verify', async () => {
    const res = await h.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    const { keys } = res.json();
    assert.equal(keys.length, 1);
    assert.equal(keys[0].kid, 'ed-1');
    assert.equal(keys[0].kty, 'OKP');
    assert.equal(keys[0].d, undefined, 'no private part');
    const login = await h.login(uniqueUser());
    const header = JSON.parse(Buffer.from(login.accessToken.split('.')[0]!, 'base64url').toString());
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.kid, 'ed-1');
    const intro = await h.introspect(login.accessToken);
    assert.equal(intro.json().active, true);
  });
});
