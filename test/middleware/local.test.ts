/**
 * Local mode of the resource-server middleware, on real Fastify and Express apps: verification in
 * process with the library's own services, on the memory stores (shared in-process with the
 * service) and on Redis (the app is a second instance on the service's Redis and prefix).
 * Revocations made through the service over HTTP are refused at once; a Redis outage fails closed
 * unless `onUnavailable: 'allow'`; a request counts as session activity.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { ManualClock } from '../../src/core/clock.js';
import { isOptixError } from '../../src/core/errors.js';
import { optixAuth as expressAuth } from '../../src/middleware/express.js';
import optixFastify from '../../src/middleware/fastify.js';
import type { OptixAuthOptions } from '../../src/middleware/types.js';
import { RedisClient } from '../../src/connection/client.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import { createHarness, type Harness, uniqueUser } from '../http/harness.js';
import { getTestRedisUrl, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { msUntil, type ResourceApp, startApps } from './apps.js';
import { behaviourTests, listen, revokeOverHttp } from './behaviour.js';

/** A second instance of the library on the service's Redis: its own connection and services. */
async function secondInstance(
  h: Harness,
  url: string,
  prefix: string,
  extra: { commandTimeoutMs?: number } = {},
) {
  const redis = new RedisClient({
    url,
    keyPrefix: prefix,
    connectTimeoutMs: 5000,
    commandTimeoutMs: extra.commandTimeoutMs ?? 1000,
    clientName: 'resource-server',
  });
  await redis.connect();
  after(() => redis.close());
  const stores = createRedisStores(redis, {
    keyPrefix: prefix,
    ids: await loadIdCodec(redis, { keyPrefix: prefix }),
  });
  const j = h.optix.config.jwt;
  const jwt = createJwtService({
    stores,
    keys: j.keys,
    activeKid: j.activeKid,
    issuer: j.issuer,
    audience: j.audience,
  });
  return { redis, jwt, sessions: createSessionManager({ stores }) };
}

describe('local mode on the memory stores', async () => {
  const h = await createHarness();
  const serviceUrl = await listen(h);
  const apps = await startApps({ mode: 'local', jwt: h.optix.jwt, sessions: h.optix.sessions });
  behaviourTests('local', () => apps, h.login);

  test('a token revoked through the service over HTTP is refused at once', async () => {
    const l = await h.login(uniqueUser());
    for (const app of apps) assert.equal((await app.get('/whoami', l.accessToken)).status, 200);
    await revokeOverHttp(serviceUrl, l.accessToken);
    for (const app of apps) {
      const res = await app.get('/whoami', l.accessToken);
      assert.equal(res.status, 401, app.name);
      assert.equal(res.body.error.code, 'ERR_TOKEN_REVOKED');
    }
  });

  test('a logout (refresh token revoked: family and session end) is refused at once', async () => {
    const l = await h.login(uniqueUser());
    for (const app of apps) assert.equal((await app.get('/whoami', l.accessToken)).status, 200);
    await revokeOverHttp(serviceUrl, l.refreshToken);
    for (const app of apps) assert.equal((await app.get('/whoami', l.accessToken)).status, 401, app.name);
  });
});

describe('local mode: route-level use and bad requirements', async () => {
  const h = await createHarness();
  const options: OptixAuthOptions = { mode: 'local', jwt: h.optix.jwt, sessions: h.optix.sessions };

  test('Express: auth.require() alone verifies the token (no app.use(auth) before it)', async () => {
    const app = express();
    const auth = expressAuth(options);
    app.get('/trade', auth.require({ roles: ['trader'] }), (req, res) => {
      res.json({ userId: req.auth?.userId });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    after(() => {
      server.closeAllConnections();
      server.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const userId = uniqueUser();
    const trader = await h.login(userId, { roles: ['trader'] });
    const viewer = await h.login(uniqueUser(), { roles: ['viewer'] });
    const get = (token?: string) =>
      fetch(`${base}/trade`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const ok = await get(trader.accessToken);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { userId });
    assert.equal((await get(viewer.accessToken)).status, 403);
    assert.equal((await get()).status, 401);
  });

  test('requirements that are not lists of strings fail when the route is declared (ERR_CONFIG)', async () => {
    const auth = expressAuth(options);
    assert.throws(
      () => auth.require({ roles: 'trader' as unknown as string[] }),
      (err) => isOptixError(err) && err.code === 'ERR_CONFIG',
    );
    const app = Fastify({ logger: false });
    after(() => app.close());
    await app.register(optixFastify, options);
    assert.throws(
      () => app.get('/x', { config: { optixAuth: { mfa: 'yes' as unknown as boolean } } }, async () => ({})),
      (err) => isOptixError(err) && err.code === 'ERR_CONFIG',
    );
  });
});

describe('local mode: a request through the middleware is session activity', async () => {
  const clock = new ManualClock(Date.now());
  const h = await createHarness(
    { SESSION_IDLE_TIMEOUT_MINUTES: '30', ACCESS_TOKEN_TTL_SECONDS: '3600' },
    { clock },
  );
  const apps = await startApps({ mode: 'local', jwt: h.optix.jwt, sessions: h.optix.sessions });

  test('the idle timeout slides on each request (both frameworks)', async () => {
    for (const app of apps) {
      const l = await h.login(uniqueUser());
      const created = (await h.optix.sessions.getSession(l.sessionId))!;
      clock.advance(10 * 60_000);
      assert.equal((await app.get('/whoami', l.accessToken)).status, 200, app.name);
      const touched = (await h.optix.sessions.getSession(l.sessionId))!;
      assert.equal(touched.lastActivity, clock.now(), `${app.name}: activity recorded`);
      assert.ok(touched.expiresAt > created.expiresAt, `${app.name}: idle deadline moved`);
      assert.equal(touched.lastEndpoint, '/whoami');
      // 25 more minutes: 35 after login, past the original idle deadline, alive because it slid.
      clock.advance(25 * 60_000);
      assert.equal((await app.get('/whoami', l.accessToken)).status, 200, `${app.name}: still alive`);
    }
  });
});

describe('local mode on Redis: the app is a second instance', async () => {
  const url = await getTestRedisUrl();
  const prefix = uniquePrefix();
  const h = await createHarness({ REDIS_URL: url, REDIS_KEY_PREFIX: prefix });
  const serviceUrl = await listen(h);
  const lib = await secondInstance(h, url, prefix);
  const apps = await startApps({ mode: 'local', jwt: lib.jwt, sessions: lib.sessions });
  behaviourTests('local', () => apps, h.login);

  test('revoked through the service over HTTP: refused by the app within milliseconds (measured)', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const app = apps[i % 2]!;
      const l = await h.login(uniqueUser());
      // Warm: the app has verified it, its answer is in the client-side cache.
      assert.equal((await app.get('/whoami', l.accessToken)).status, 200);
      assert.equal((await app.get('/whoami', l.accessToken)).status, 200);
      await revokeOverHttp(serviceUrl, i % 4 < 2 ? l.accessToken : l.refreshToken);
      const since = performance.now();
      delays.push(
        await msUntil(async () => (await app.get('/whoami', l.accessToken)).status === 401, since, 1000),
      );
    }
    delays.sort((a, b) => a - b);
    console.log(
      `# local/Redis: revoke (HTTP, instance A) → refused by the app (instance B): max ${delays.at(-1)!.toFixed(1)} ms over ${delays.length}`,
    );
    assert.ok(delays.at(-1)! < 100, `took ${delays.at(-1)} ms`);
  });
});

describe('local mode while Redis is down', async () => {
  const server = await startRedisServer();
  after(() => server.stop());
  const prefix = uniquePrefix();
  const h = await createHarness({
    REDIS_URL: server.url,
    REDIS_KEY_PREFIX: prefix,
    REDIS_COMMAND_TIMEOUT_MS: '300',
    REDIS_CONNECT_TIMEOUT_MS: '5000',
  });
  const lib = await secondInstance(h, server.url, prefix, { commandTimeoutMs: 300 });
  const base: OptixAuthOptions = { mode: 'local', jwt: lib.jwt, sessions: lib.sessions };
  const closed: ResourceApp[] = await startApps(base);
  const open: ResourceApp[] = await startApps({ ...base, onUnavailable: 'allow' });

  test("fails closed with 503 (Retry-After: 1); onUnavailable 'allow' lets a well-signed token through, marked", async () => {
    // Tokens the app has never seen: nothing of them is cached.
    const logins = await Promise.all([1, 2, 3, 4].map(() => h.login(uniqueUser())));
    await server.stop();
    for (const [i, app] of closed.entries()) {
      const started = Date.now();
      const res = await app.get('/whoami', logins[i]!.accessToken);
      assert.equal(res.status, 503, `${app.name}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.code, /^ERR_STORE_(UNAVAILABLE|TIMEOUT)$/);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    }
    for (const [i, app] of open.entries()) {
      const res = await app.get('/whoami', logins[i + 2]!.accessToken);
      assert.equal(res.status, 200, `${app.name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.auth.revocationChecked, false);
      assert.equal(res.body.auth.mfa, false, 'MFA unknown: not claimed');
      assert.equal((await app.get('/withdraw', logins[i + 2]!.accessToken)).status, 403);
      assert.equal((await app.get('/whoami', 'not-a-token')).status, 401, 'a bad token is still refused');
    }
  });
});
